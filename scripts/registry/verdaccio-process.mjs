// Runs Verdaccio in its own process (so the npm processes a test starts synchronously never block
// it) from a JSON config given as argv[2]; listens on loopback at port argv[3] (0: a free one) and
// prints its URL.
import {runServer} from 'verdaccio';

const config = JSON.parse(process.argv[2]);
const app = await runServer(config);
const server = app.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  console.log(`verdaccio listening http://127.0.0.1:${server.address().port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.on('error', (error) => {
  console.error(`verdaccio could not listen: ${error.message}`);
  process.exit(1);
});
