#!/usr/bin/env node
// A long-lived timing driver for the Digital Bazaar peer (bench/sign_verify.py starts it).
//
//   node bench/peer_driver.mjs <prepared peer dir> <seed-hex>
//
// It loads the peer harness (lib.mjs: @digitalbazaar/vc + eddsa-rdfc-2022) from the prepared
// directory (scripts/peer) and answers one JSON request per stdin line with one JSON line:
//   {"op": "load", "name": "basic", "path": "unsigned.json", "warmup": 20}
//       -> {"bytes": <signed JSON length>}   (signs and verifies it `warmup` times first)
//   {"op": "time", "name": "basic", "what": "sign" | "verify", "n": 30}
//       -> {"mean_ms": <wall-clock ms per operation over n consecutive operations>,
//           "cpu_ms": <CPU ms per operation, all of the process's threads>}
// Staying up lets the benchmark alternate rounds between the two stacks, so that both meet the
// same machine load; the timing method (n warm operations in a row) is the same on both sides.
import path from 'node:path';
import readline from 'node:readline';
import {pathToFileURL} from 'node:url';

const [peerDir, seedHex] = process.argv.slice(2);
const lib = await import(pathToFileURL(path.join(peerDir, 'lib.mjs')).href);
const {keyPair, did} = await lib.keyFromSeed(seedHex);
const documentLoader = lib.makeDocumentLoader();
// Status is not checked in the benchmark (as in the peer's own bench.mjs).
const noStatus = async () => ({verified: true});
const examples = new Map();

async function signOnce(credential) {
  return lib.sign({credential, keyPair, documentLoader});
}

async function verifyOnce(signed) {
  const result = await lib.verify({credential: signed, documentLoader, checkStatus: noStatus});
  if(!result.verified) {
    throw new Error('verify failed: ' + result.errors.join('; '));
  }
}

async function handle(request) {
  if(request.op === 'load') {
    const credential = lib.setIssuer(lib.readJson(request.path), did);
    delete credential.proof;
    let signed;
    for(let i = 0; i < (request.warmup ?? 20); i++) {
      signed = await signOnce(credential);
      await verifyOnce(signed);
    }
    examples.set(request.name, {credential, signed});
    return {bytes: JSON.stringify(signed).length, node: process.version};
  }
  if(request.op === 'time') {
    const example = examples.get(request.name);
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for(let i = 0; i < request.n; i++) {
      if(request.what === 'sign') {
        await signOnce(example.credential);
      } else {
        await verifyOnce(example.signed);
      }
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    const used = process.cpuUsage(cpu);
    return {mean_ms: elapsed / request.n, cpu_ms: (used.user + used.system) / 1000 / request.n};
  }
  throw new Error('unknown request ' + JSON.stringify(request));
}

const lines = readline.createInterface({input: process.stdin});
for await (const line of lines) {
  let reply;
  try {
    reply = await handle(JSON.parse(line));
  } catch(error) {
    reply = {error: String(error && error.stack || error)};
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
