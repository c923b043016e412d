import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { unaryHandler } from "./call-handler.ts";
import type { DelegationCommands } from "./delegation-commands.ts";
import { grantRequestFromWire, listFilterFromWire, revokeSelectorFromWire } from "./delegation-from-proto.ts";
import { consistencyFromWire } from "./from-proto.ts";
import type { MandateCommands } from "./mandate-commands.ts";
import { delegationGrantToWire } from "./to-proto.ts";
import type {
  WireGrantDelegationRequest,
  WireGrantDelegationResponse,
  WireListDelegationsRequest,
  WireListDelegationsResponse,
  WireRevokeDelegationsRequest,
  WireRevokeDelegationsResponse,
} from "./wire-types.ts";

/**
 * delegationServiceHandlers implements mandate.v1.DelegationService: each handler decodes the
 * request, runs one delegation command and encodes the answer with the consistency token of the
 * revision it wrote or read (`commands` issues tokens).
 */
export function delegationServiceHandlers(delegations: DelegationCommands, commands: MandateCommands, logger: Logger): UntypedServiceImplementation {
  return {
    GrantDelegation: unaryHandler("GrantDelegation", logger, async (request: WireGrantDelegationRequest): Promise<WireGrantDelegationResponse> => {
      const { revision, grant } = await delegations.grant(grantRequestFromWire(request));
      return { grant: delegationGrantToWire(grant), writtenAt: { token: await commands.tokenFor(revision) } };
    }),

    ListDelegations: unaryHandler("ListDelegations", logger, async (request: WireListDelegationsRequest): Promise<WireListDelegationsResponse> => {
      const consistency = consistencyFromWire(request.consistency);
      const { revision, delegations: listed } = await delegations.list(consistency, listFilterFromWire(request));
      return {
        readAt: { token: await commands.tokenFor(revision) },
        grants: listed.map((entry) => delegationGrantToWire(entry.grant, entry.used)),
      };
    }),

    RevokeDelegations: unaryHandler("RevokeDelegations", logger, async (request: WireRevokeDelegationsRequest): Promise<WireRevokeDelegationsResponse> => {
      const { revision, revoked } = await delegations.revoke(revokeSelectorFromWire(request));
      return { writtenAt: { token: await commands.tokenFor(revision) }, revoked: revoked.map((grant) => delegationGrantToWire(grant)) };
    }),
  };
}
