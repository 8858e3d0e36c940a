export {main} from './cli.js';
export type {CliIo} from './cli.js';
export {checkName, namesFor} from './lib/names.js';
export type {ProjectNames} from './lib/names.js';
export {scaffold} from './lib/scaffold.js';
export type {ScaffoldOptions, ScaffoldResult} from './lib/scaffold.js';
export {isTemplate, TEMPLATES} from './lib/templates.js';
export type {TemplateName} from './lib/templates.js';
