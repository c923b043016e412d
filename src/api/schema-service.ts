import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { InvalidArgumentError } from "../tuple/index.ts";
import type { MandateCommands } from "./mandate-commands.ts";
import { unaryHandler } from "./call-handler.ts";
import type { WireReadSchemaRequest, WireReadSchemaResponse, WireWriteSchemaRequest, WireWriteSchemaResponse } from "./wire-types.ts";

/** schemaServiceHandlers implements mandate.v1.SchemaService. */
export function schemaServiceHandlers(commands: MandateCommands, logger: Logger): UntypedServiceImplementation {
  return {
    ReadSchema: unaryHandler("ReadSchema", logger, async (_request: WireReadSchemaRequest): Promise<WireReadSchemaResponse> => {
      const { text, revision } = await commands.readSchema();
      return { schemaText: text, readAt: { token: await commands.tokenFor(revision) } };
    }),

    WriteSchema: unaryHandler("WriteSchema", logger, async (request: WireWriteSchemaRequest): Promise<WireWriteSchemaResponse> => {
      const text = request.schema ?? "";
      if (text.trim() === "") throw new InvalidArgumentError("schema: is empty", { field: "schema" });
      const revision = await commands.writeSchema(text);
      return { writtenAt: { token: await commands.tokenFor(revision) } };
    }),
  };
}
