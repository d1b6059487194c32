// A port nothing listens on, asked of the kernel (listen on 0, read it, close): a random number in
// the ephemeral range can be one an outgoing connection of another test is using.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
