// Preloaded with `node -r`: xapi-statements calls app.listen(port), which binds every interface.
// Tests must only expose the LRS on loopback, so every TCP listen is pinned to 127.0.0.1.
'use strict';

const net = require('net');

const LOOPBACK = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === 'string') {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  } else if (first && typeof first === 'object' && first.port !== undefined && !first.path) {
    // listen(options[, callback])
    args[0] = Object.assign({}, first, { host: LOOPBACK });
  }
  return originalListen.apply(this, args);
};
