/**
 * A TCP echo server for scenario 6, run in a child process so that its work is not on the
 * event loop being measured. Listens on 127.0.0.1, port 0, and sends its port to the parent.
 * Exits when the parent disconnects.
 */
import { createServer, type AddressInfo } from 'node:net';

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
