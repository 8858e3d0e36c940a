export {defineEvent, TYPE_PATTERN} from './lib/define-event';
export type {Contract, ContractDefinition, ContractKind, DataOf, InputOf} from './lib/define-event';
export {createEnvelope, envelopeSchema} from './lib/envelope';
export type {Envelope, EnvelopeOf, EnvelopeOptions} from './lib/envelope';
export {ContractRegistry} from './lib/registry';
export {newId} from './lib/ids';
export {invalid, toIssues} from './lib/validation';
export type {ValidationIssue, ValidationResult} from './lib/validation';
