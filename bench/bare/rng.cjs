// The ceiling for rng: node:http and crypto.randomBytes, nothing else. Prints its port.
require('node:http')
  .createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(require('node:crypto').randomBytes(32));
  })
  .listen(0, '127.0.0.1', function () {
    console.log(`port ${this.address().port}`);
  });
