/**
 * `npm run catalog`: writes every contract of the shop as JSON Schema and as one AsyncAPI 3 document
 * into dist/catalog/, which the server serves at /catalog/ (after a build, which runs this too).
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {asyncApi, jsonSchemas} from '@switchboard/contracts';
import {shopRegistry} from '@switchboard/shop-contracts';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/catalog');
mkdirSync(resolve(out, 'schemas'), {recursive: true});
const registry = shopRegistry();
const schemas = jsonSchemas(registry);
for (const [id, schema] of Object.entries(schemas)) writeFileSync(resolve(out, 'schemas', `${id}.json`), `${JSON.stringify(schema, null, 2)}\n`);
const doc = asyncApi(registry, {title: 'Switchboard shop events', version: '1.0.0', description: 'Every event and command the shop\'s micro frontends and services exchange.'});
writeFileSync(resolve(out, 'asyncapi.json'), `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${Object.keys(schemas).length} schemas and asyncapi.json to ${out}`);
