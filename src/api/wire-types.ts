// Hand-written TypeScript shapes of the mandate.v1 wire messages, as @grpc/proto-loader presents
// them with the options in mandate-proto.ts: camelCase fields, enums as strings, 64-bit integers as
// numbers. Fields are optional and nullable because a decoded message leaves unset sub-messages
// null and a sender may omit anything; from-proto.ts decides what is required.

/** WireStruct is google.protobuf.Struct; build it with `toWireStruct` rather than by hand. */
export interface WireStruct {
  fields?: Record<string, WireValue> | null;
}

/** WireValue is google.protobuf.Value; `kind` names the field that is set. */
export interface WireValue {
  kind?: "nullValue" | "numberValue" | "stringValue" | "boolValue" | "structValue" | "listValue";
  nullValue?: "NULL_VALUE" | 0 | null;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: WireStruct | null;
  listValue?: { values?: WireValue[] | null } | null;
}

/** WireTimestamp is google.protobuf.Timestamp. */
export interface WireTimestamp {
  seconds?: number | string | null;
  nanos?: number | null;
}

/** WireObjectReference is mandate.v1.ObjectReference as decoded by proto-loader. */
export interface WireObjectReference {
  objectType?: string | null;
  objectId?: string | null;
}

/** WireSubjectReference is mandate.v1.SubjectReference as decoded by proto-loader. */
export interface WireSubjectReference {
  object?: WireObjectReference | null;
  /** An empty string means the object itself (SpiceDB's `...`). */
  optionalRelation?: string | null;
}

/** WireContextualizedCaveat is mandate.v1.ContextualizedCaveat as decoded by proto-loader. */
export interface WireContextualizedCaveat {
  caveatName?: string | null;
  context?: WireStruct | null;
}

/** WireRelationship is mandate.v1.Relationship as decoded by proto-loader. */
export interface WireRelationship {
  resource?: WireObjectReference | null;
  relation?: string | null;
  subject?: WireSubjectReference | null;
  optionalCaveat?: WireContextualizedCaveat | null;
  optionalExpiresAt?: WireTimestamp | null;
}

/** WireZedToken is mandate.v1.ZedToken as decoded by proto-loader. */
export interface WireZedToken {
  token?: string | null;
}

/** WireCursor is mandate.v1.Cursor as decoded by proto-loader. */
export interface WireCursor {
  token?: string | null;
}

/** WireConsistency: set exactly one of the four; `requirement` names it on decoded messages. */
export interface WireConsistency {
  requirement?: "minimizeLatency" | "atLeastAsFresh" | "atExactSnapshot" | "fullyConsistent";
  minimizeLatency?: boolean | null;
  atLeastAsFresh?: WireZedToken | null;
  atExactSnapshot?: WireZedToken | null;
  fullyConsistent?: boolean | null;
}

/** WireSubjectFilter is mandate.v1.SubjectFilter as decoded by proto-loader. */
export interface WireSubjectFilter {
  subjectType?: string | null;
  optionalSubjectId?: string | null;
  /** `{ relation: "" }` selects subjects without a relation; absent selects any relation. */
  optionalRelation?: { relation?: string | null } | null;
}

/** WireRelationshipFilter is mandate.v1.RelationshipFilter as decoded by proto-loader. */
export interface WireRelationshipFilter {
  resourceType?: string | null;
  optionalResourceId?: string | null;
  optionalResourceIdPrefix?: string | null;
  optionalRelation?: string | null;
  optionalSubjectFilter?: WireSubjectFilter | null;
}

/** WirePreconditionOperation is mandate.v1.Precondition.Operation, by value name. */
export type WirePreconditionOperation = "OPERATION_UNSPECIFIED" | "OPERATION_MUST_NOT_MATCH" | "OPERATION_MUST_MATCH";

/** WirePrecondition is mandate.v1.Precondition as decoded by proto-loader. */
export interface WirePrecondition {
  operation?: WirePreconditionOperation | null;
  filter?: WireRelationshipFilter | null;
}

/** WireUpdateOperation is mandate.v1.RelationshipUpdate.Operation, by value name. */
export type WireUpdateOperation = "OPERATION_UNSPECIFIED" | "OPERATION_CREATE" | "OPERATION_TOUCH" | "OPERATION_DELETE";

/** WireRelationshipUpdate is mandate.v1.RelationshipUpdate as decoded by proto-loader. */
export interface WireRelationshipUpdate {
  operation?: WireUpdateOperation | null;
  relationship?: WireRelationship | null;
}

/** WireErrorStatus is mandate.v1.ErrorStatus as decoded by proto-loader. */
export interface WireErrorStatus {
  code?: number | null;
  message?: string | null;
}

/** WirePermissionship is mandate.v1.Permissionship, by value name. */
export type WirePermissionship =
  | "PERMISSIONSHIP_UNSPECIFIED"
  | "PERMISSIONSHIP_NO_PERMISSION"
  | "PERMISSIONSHIP_HAS_PERMISSION"
  | "PERMISSIONSHIP_CONDITIONAL_PERMISSION";

/** WirePartialCaveatInfo is mandate.v1.PartialCaveatInfo as decoded by proto-loader. */
export interface WirePartialCaveatInfo {
  missingRequiredContext?: string[] | null;
}

/** WireTraceOperation is mandate.v1.CheckDebugTrace.Operation, by value name. */
export type WireTraceOperation =
  | "OPERATION_UNSPECIFIED"
  | "OPERATION_RELATION"
  | "OPERATION_UNION"
  | "OPERATION_INTERSECTION"
  | "OPERATION_EXCLUSION"
  | "OPERATION_ARROW"
  | "OPERATION_NIL"
  | "OPERATION_DIRECT";

/** WireCheckDebugTrace is mandate.v1.CheckDebugTrace as decoded by proto-loader. */
export interface WireCheckDebugTrace {
  resource?: WireObjectReference | null;
  permission?: string | null;
  subject?: WireSubjectReference | null;
  operation?: WireTraceOperation | null;
  result?: WirePermissionship | null;
  cycle?: boolean | null;
  children?: WireCheckDebugTrace[] | null;
  label?: string | null;
}

/** WireCheckPermissionRequest is mandate.v1.CheckPermissionRequest as decoded by proto-loader. */
export interface WireCheckPermissionRequest {
  consistency?: WireConsistency | null;
  resource?: WireObjectReference | null;
  permission?: string | null;
  subject?: WireSubjectReference | null;
  context?: WireStruct | null;
  withTracing?: boolean | null;
  onBehalfOf?: WireObjectReference | null;
}

/** WireCheckPermissionResponse is mandate.v1.CheckPermissionResponse as decoded by proto-loader. */
export interface WireCheckPermissionResponse {
  checkedAt?: WireZedToken | null;
  permissionship?: WirePermissionship | null;
  partialCaveatInfo?: WirePartialCaveatInfo | null;
  debugTrace?: WireCheckDebugTrace | null;
  /** Set exactly when the request had onBehalfOf. */
  delegation?: WireDelegationExplanation | null;
}

/** WireCheckBulkPermissionsRequestItem is mandate.v1.CheckBulkPermissionsRequestItem as decoded by proto-loader. */
export interface WireCheckBulkPermissionsRequestItem {
  resource?: WireObjectReference | null;
  permission?: string | null;
  subject?: WireSubjectReference | null;
  context?: WireStruct | null;
  onBehalfOf?: WireObjectReference | null;
}

/** WireCheckBulkPermissionsRequest is mandate.v1.CheckBulkPermissionsRequest as decoded by proto-loader. */
export interface WireCheckBulkPermissionsRequest {
  consistency?: WireConsistency | null;
  items?: WireCheckBulkPermissionsRequestItem[] | null;
}

/** WireCheckBulkPermissionsResponseItem is mandate.v1.CheckBulkPermissionsResponseItem as decoded by proto-loader. */
export interface WireCheckBulkPermissionsResponseItem {
  permissionship?: WirePermissionship | null;
  partialCaveatInfo?: WirePartialCaveatInfo | null;
  /** Set exactly when the item had onBehalfOf. */
  delegation?: WireDelegationExplanation | null;
}

/** WireCheckBulkPermissionsPair: exactly one of `item` and `error` is set; `response` names it. */
export interface WireCheckBulkPermissionsPair {
  request?: WireCheckBulkPermissionsRequestItem | null;
  response?: "item" | "error";
  item?: WireCheckBulkPermissionsResponseItem | null;
  error?: WireErrorStatus | null;
}

/** WireCheckBulkPermissionsResponse is mandate.v1.CheckBulkPermissionsResponse as decoded by proto-loader. */
export interface WireCheckBulkPermissionsResponse {
  checkedAt?: WireZedToken | null;
  pairs?: WireCheckBulkPermissionsPair[] | null;
}

/** WireAlgebraicOperation is mandate.v1.AlgebraicSubjectSet.Operation, by value name. */
export type WireAlgebraicOperation = "OPERATION_UNSPECIFIED" | "OPERATION_UNION" | "OPERATION_INTERSECTION" | "OPERATION_EXCLUSION";

/** WirePermissionRelationshipTree: exactly one of `intermediate` and `leaf` is set; `treeType` names it. */
export interface WirePermissionRelationshipTree {
  treeType?: "intermediate" | "leaf";
  intermediate?: { operation?: WireAlgebraicOperation | null; children?: WirePermissionRelationshipTree[] | null } | null;
  leaf?: { subjects?: WireSubjectReference[] | null } | null;
  expandedObject?: WireObjectReference | null;
  expandedRelation?: string | null;
}

/** WireExpandPermissionTreeRequest is mandate.v1.ExpandPermissionTreeRequest as decoded by proto-loader. */
export interface WireExpandPermissionTreeRequest {
  consistency?: WireConsistency | null;
  resource?: WireObjectReference | null;
  permission?: string | null;
  /** actor and onBehalfOf, set together, ask for the delegation explanation too. */
  actor?: WireObjectReference | null;
  onBehalfOf?: WireObjectReference | null;
  context?: WireStruct | null;
}

/** WireExpandPermissionTreeResponse is mandate.v1.ExpandPermissionTreeResponse as decoded by proto-loader. */
export interface WireExpandPermissionTreeResponse {
  expandedAt?: WireZedToken | null;
  treeRoot?: WirePermissionRelationshipTree | null;
  delegation?: WireDelegationExplanation | null;
}

/** WireWriteRelationshipsRequest is mandate.v1.WriteRelationshipsRequest as decoded by proto-loader. */
export interface WireWriteRelationshipsRequest {
  updates?: WireRelationshipUpdate[] | null;
  optionalPreconditions?: WirePrecondition[] | null;
}

/** WireWriteRelationshipsResponse is mandate.v1.WriteRelationshipsResponse as decoded by proto-loader. */
export interface WireWriteRelationshipsResponse {
  writtenAt?: WireZedToken | null;
}

/** WireDeleteRelationshipsRequest is mandate.v1.DeleteRelationshipsRequest as decoded by proto-loader. */
export interface WireDeleteRelationshipsRequest {
  relationshipFilter?: WireRelationshipFilter | null;
  optionalPreconditions?: WirePrecondition[] | null;
  /** 0 or unset: no limit. */
  optionalLimit?: number | null;
}

/** WireDeleteRelationshipsResponse is mandate.v1.DeleteRelationshipsResponse as decoded by proto-loader. */
export interface WireDeleteRelationshipsResponse {
  deletedAt?: WireZedToken | null;
  relationshipsDeletedCount?: number | string | null;
}

/** WireReadRelationshipsRequest is mandate.v1.ReadRelationshipsRequest as decoded by proto-loader. */
export interface WireReadRelationshipsRequest {
  consistency?: WireConsistency | null;
  relationshipFilter?: WireRelationshipFilter | null;
  /** 0 or unset: every matching relationship. */
  optionalLimit?: number | null;
  optionalCursor?: WireCursor | null;
}

/** WireReadRelationshipsResponse is mandate.v1.ReadRelationshipsResponse as decoded by proto-loader. */
export interface WireReadRelationshipsResponse {
  readAt?: WireZedToken | null;
  relationship?: WireRelationship | null;
  afterResultCursor?: WireCursor | null;
}

/** WireReadSchemaRequest is mandate.v1.ReadSchemaRequest, which has no fields. */
export type WireReadSchemaRequest = Record<string, never>;

/** WireReadSchemaResponse is mandate.v1.ReadSchemaResponse as decoded by proto-loader. */
export interface WireReadSchemaResponse {
  schemaText?: string | null;
  readAt?: WireZedToken | null;
}

/** WireWriteSchemaRequest is mandate.v1.WriteSchemaRequest as decoded by proto-loader. */
export interface WireWriteSchemaRequest {
  schema?: string | null;
}

/** WireWriteSchemaResponse is mandate.v1.WriteSchemaResponse as decoded by proto-loader. */
export interface WireWriteSchemaResponse {
  writtenAt?: WireZedToken | null;
}

/** WireImportBulkRelationshipsRequest is one batch of mandate.v1.ImportBulkRelationships. */
export interface WireImportBulkRelationshipsRequest {
  relationships?: WireRelationship[] | null;
}

/** WireImportBulkRelationshipsResponse is mandate.v1.ImportBulkRelationshipsResponse as decoded by proto-loader. */
export interface WireImportBulkRelationshipsResponse {
  numLoaded?: number | string | null;
  writtenAt?: WireZedToken | null;
}

/** WireExportBulkRelationshipsRequest is mandate.v1.ExportBulkRelationshipsRequest as decoded by proto-loader. */
export interface WireExportBulkRelationshipsRequest {
  consistency?: WireConsistency | null;
  optionalLimit?: number | null;
  optionalCursor?: WireCursor | null;
  optionalRelationshipFilter?: WireRelationshipFilter | null;
}

/** WireExportBulkRelationshipsResponse is one batch of mandate.v1.ExportBulkRelationships. */
export interface WireExportBulkRelationshipsResponse {
  afterResultCursor?: WireCursor | null;
  relationships?: WireRelationship[] | null;
  readAt?: WireZedToken | null;
}

/** WireWatchRequest is mandate.v1.WatchRequest as decoded by proto-loader. */
export interface WireWatchRequest {
  optionalObjectTypes?: string[] | null;
  optionalStartCursor?: WireZedToken | null;
}

/** WireWatchResponse is the changes of one revision, mandate.v1.WatchResponse. */
export interface WireWatchResponse {
  updates?: WireRelationshipUpdate[] | null;
  changesThrough?: WireZedToken | null;
}

/** WireLookupPermissionship is mandate.v1.LookupPermissionship, by value name. */
export type WireLookupPermissionship =
  | "LOOKUP_PERMISSIONSHIP_UNSPECIFIED"
  | "LOOKUP_PERMISSIONSHIP_HAS_PERMISSION"
  | "LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION";

/** WireLookupResourcesRequest is mandate.v1.LookupResourcesRequest as decoded by proto-loader. */
export interface WireLookupResourcesRequest {
  consistency?: WireConsistency | null;
  resourceObjectType?: string | null;
  permission?: string | null;
  subject?: WireSubjectReference | null;
  context?: WireStruct | null;
  /** 0 or unset: no cap; at most the server's maxLookupPageSize. */
  optionalLimit?: number | null;
  optionalCursor?: WireCursor | null;
  onBehalfOf?: WireObjectReference | null;
}

/** WireLookupResourcesResponse is mandate.v1.LookupResourcesResponse: the next results of the stream. */
export interface WireLookupResourcesResponse {
  lookedUpAt?: WireZedToken | null;
  results?: WireLookupResourcesResult[] | null;
  /** Resumes after the last result of this message. */
  afterResultCursor?: WireCursor | null;
}

/** WireLookupResourcesResult is one resource found, mandate.v1.LookupResourcesResult. */
export interface WireLookupResourcesResult {
  resourceObjectId?: string | null;
  permissionship?: WireLookupPermissionship | null;
  /** Set exactly when permissionship is CONDITIONAL. */
  partialCaveatInfo?: WirePartialCaveatInfo | null;
}

/** WireLookupSubjectsRequest is mandate.v1.LookupSubjectsRequest as decoded by proto-loader. */
export interface WireLookupSubjectsRequest {
  consistency?: WireConsistency | null;
  resource?: WireObjectReference | null;
  permission?: string | null;
  subjectObjectType?: string | null;
  /** An empty string (or `...`) asks for objects, a relation for usersets of it. */
  optionalSubjectRelation?: string | null;
  context?: WireStruct | null;
  /** 0 or unset: no cap; at most the server's maxLookupPageSize. */
  optionalLimit?: number | null;
  optionalCursor?: WireCursor | null;
}

/**
 * WireResolvedSubject is mandate.v1.ResolvedSubject. As an excluded subject of a wildcard,
 * permissionship HAS_PERMISSION means the exclusion holds unconditionally (SpiceDB's convention).
 */
export interface WireResolvedSubject {
  subjectObjectId?: string | null;
  permissionship?: WireLookupPermissionship | null;
  partialCaveatInfo?: WirePartialCaveatInfo | null;
}

/** WireLookupSubjectsResponse is mandate.v1.LookupSubjectsResponse: the next results of the stream. */
export interface WireLookupSubjectsResponse {
  lookedUpAt?: WireZedToken | null;
  results?: WireLookupSubjectsResult[] | null;
  /** Resumes after the last result of this message. */
  afterResultCursor?: WireCursor | null;
}

/** WireLookupSubjectsResult is one subject found, mandate.v1.LookupSubjectsResult. */
export interface WireLookupSubjectsResult {
  subject?: WireResolvedSubject | null;
  /** Set on the wildcard result only. */
  excludedSubjects?: WireResolvedSubject[] | null;
}

/** WireDelegationBudget is mandate.v1.DelegationBudget: a budgeted edge's limit and uses so far. */
export interface WireDelegationBudget {
  limit?: number | null;
  used?: number | null;
}

/** WireDelegationHop is one edge of a delegation path, mandate.v1.DelegationHop. */
export interface WireDelegationHop {
  actor?: WireObjectReference | null;
  principal?: WireObjectReference | null;
  grantedBy?: WireObjectReference | null;
  delegation?: string | null;
  grantId?: string | null;
  scope?: string[] | null;
  notBefore?: WireTimestamp | null;
  expiresAt?: WireTimestamp | null;
  inScope?: boolean | null;
  caveatResult?: WirePermissionship | null;
  /** Set exactly when caveatResult is CONDITIONAL. */
  caveatPartialCaveatInfo?: WirePartialCaveatInfo | null;
  /** UNSPECIFIED (or unset) when the actor's delegation sets no ceiling. */
  ceilingResult?: WirePermissionship | null;
  budget?: WireDelegationBudget | null;
}

/** WireDelegationExplanation is mandate.v1.DelegationExplanation as decoded by proto-loader. */
export interface WireDelegationExplanation {
  path?: WireDelegationHop[] | null;
  principalResult?: WirePermissionship | null;
  /** Empty unless the answer is NO_PERMISSION for a reason other than the principal's. */
  reason?: string | null;
}

/** WireDelegationVia is mandate.v1.DelegationVia: the parent edge of a sub-delegation. */
export interface WireDelegationVia {
  actor?: WireObjectReference | null;
  delegation?: string | null;
  grantId?: string | null;
}

/** WireDelegationGrant is one stored edge, mandate.v1.DelegationGrant. */
export interface WireDelegationGrant {
  grantId?: string | null;
  actor?: WireObjectReference | null;
  delegation?: string | null;
  principal?: WireObjectReference | null;
  scope?: string[] | null;
  notBefore?: WireTimestamp | null;
  expiresAt?: WireTimestamp | null;
  grantedAt?: WireTimestamp | null;
  chain?: number | null;
  via?: WireDelegationVia | null;
  caveat?: WireContextualizedCaveat | null;
  /** 0 or unset: no budget. */
  budget?: number | null;
  budgetUsed?: number | null;
}

/** WireGrantDelegationRequest is mandate.v1.GrantDelegationRequest as decoded by proto-loader. */
export interface WireGrantDelegationRequest {
  actor?: WireObjectReference | null;
  principal?: WireObjectReference | null;
  delegation?: string | null;
  scope?: string[] | null;
  notBefore?: WireTimestamp | null;
  expiresAt?: WireTimestamp | null;
  via?: WireObjectReference | null;
  caveat?: WireContextualizedCaveat | null;
  /** 0 or unset: no budget. */
  budget?: number | null;
}

/** WireGrantDelegationResponse is mandate.v1.GrantDelegationResponse as decoded by proto-loader. */
export interface WireGrantDelegationResponse {
  grant?: WireDelegationGrant | null;
  writtenAt?: WireZedToken | null;
}

/** WireListDelegationsRequest: set exactly one of `actor` and `principal`; `selector` names it on decoded messages. */
export interface WireListDelegationsRequest {
  consistency?: WireConsistency | null;
  selector?: "actor" | "principal";
  actor?: WireObjectReference | null;
  principal?: WireObjectReference | null;
}

/** WireListDelegationsResponse is mandate.v1.ListDelegationsResponse as decoded by proto-loader. */
export interface WireListDelegationsResponse {
  readAt?: WireZedToken | null;
  grants?: WireDelegationGrant[] | null;
}

/** WireRevokeDelegationsRequest: set exactly one of `edge`, `actor` and `principal`; `selector` names it on decoded messages. */
export interface WireRevokeDelegationsRequest {
  selector?: "edge" | "actor" | "principal";
  edge?: { actor?: WireObjectReference | null; principal?: WireObjectReference | null; delegation?: string | null } | null;
  actor?: WireObjectReference | null;
  principal?: WireObjectReference | null;
}

/** WireRevokeDelegationsResponse is mandate.v1.RevokeDelegationsResponse as decoded by proto-loader. */
export interface WireRevokeDelegationsResponse {
  writtenAt?: WireZedToken | null;
  revoked?: WireDelegationGrant[] | null;
}
