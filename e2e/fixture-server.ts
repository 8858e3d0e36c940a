/**
 * A second origin for e2e: serves a customer's page that embeds one app from the Switchboard server
 * (HUB_ORIGIN) with one script tag, so cross-origin embedding runs for real (CORS, credentials).
 */
import {createServer} from 'node:http';

const hubOrigin = process.env['HUB_ORIGIN'];
const port = Number(process.env['PORT']);
if (hubOrigin === undefined || !Number.isInteger(port)) throw new Error('fixture-server needs HUB_ORIGIN and PORT');

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A customer's page</title>
<script type="module" src="${hubOrigin}/apps/activity-feed.js"></script></head>
<body><h1>Someone else's site</h1><shop-activity-feed hub="${hubOrigin}/hubs/events" topic="orders"></shop-activity-feed></body></html>`;

createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok');
  if (req.url === '/embed.html') return void res.writeHead(200, {'content-type': 'text/html; charset=utf-8'}).end(page);
  res.writeHead(404).end();
}).listen(port, '127.0.0.1');
