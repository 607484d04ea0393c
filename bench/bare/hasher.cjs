// The ceiling for hasher: node:http and crypto's SHA-256, nothing else. Prints its port.
const { createHash } = require('node:crypto');
require('node:http')
  .createServer((req, res) => {
    const sha = createHash('sha256');
    req.on('data', (d) => sha.update(d));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(sha.digest('hex'));
    });
  })
  .listen(0, '127.0.0.1', function () {
    console.log(`port ${this.address().port}`);
  });
