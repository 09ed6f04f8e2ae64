#!/usr/bin/env node
// Proofs made and checked by the Digital Bazaar stack (proof sets and chains, HTTPS
// verification methods), for tests/interop/test_peer_chains.py and
// test_peer_verification_methods.py.  Run with the peer harness folder (scripts/peer,
// CREDFOLIO_PEER_DIR) as the working directory:
//   node <this file> add IN.json SEED_HEX PROOF_ID CREATED [PREVIOUS_ID...]
//     prints IN with one more eddsa-rdfc-2022 proof (id PROOF_ID) by the did:key of the seed,
//     chained to PREVIOUS_ID... when given;
//   node <this file> check IN.json
//     prints [{"id", "verified", "controller", "error"}], one entry per proof;
//   node <this file> verify-https IN.json CONTROLLER_DOCUMENT.json...
//     full verification (vc.verifyCredential: proof, issuer = controller, assertionMethod) with
//     HTTPS verification methods resolved from the controller documents given;
//   --vm URL (with add): sign as the method URL#fragment controlled by URL instead of the
//     did:key of the seed.
// The library's DataIntegrityProof signs and verifies; it has no chain support of its own, so
// a chained proof is handed the document with the proofs its previousProof names, exactly as
// Data Integrity 1.0 §4.5 ("Add Proof Set/Chain", "Verify Proof Sets and Chains") says.
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const lib = await import(pathToFileURL(path.join(process.cwd(), 'lib.mjs')).href);
const {DataIntegrityProof, eddsaRdfc2022, keyFromSeed, makeDocumentLoader} = lib;
const documentLoader = makeDocumentLoader();
const assertionMethod = {
  async update(proof) {
    proof.proofPurpose = 'assertionMethod';
    return proof;
  }
};

function withNamedProofs(document, previous) {
  const unsecured = {...document};
  delete unsecured.proof;
  if(previous.length === 0) {
    return unsecured;
  }
  const proofs = [].concat(document.proof || []);
  const matching = proofs.filter(p => previous.includes(p.id));
  if(matching.length !== previous.length) {
    throw new Error(`previousProof ${previous} is not in the document`);
  }
  return {...unsecured, proof: matching};
}

function takeOption(args, name) {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
}

async function add(args) {
  const vm = takeOption(args, '--vm');
  const [file, seedHex, proofId, created, ...previous] = args;
  const document = JSON.parse(fs.readFileSync(file, 'utf8'));
  const {keyPair} = await keyFromSeed(seedHex);
  if(vm) {
    keyPair.id = vm;
    keyPair.controller = vm.split('#')[0];
  }
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: created});
  suite.proof = {id: proofId};
  if(previous.length > 0) {
    suite.proof.previousProof = previous.length === 1 ? previous[0] : previous;
  }
  const proof = await suite.createProof({
    document: withNamedProofs(document, previous), purpose: assertionMethod,
    documentLoader});
  return {...document, proof: [].concat(document.proof || [], [proof])};
}

async function check([file]) {
  const document = JSON.parse(fs.readFileSync(file, 'utf8'));
  const results = [];
  for(const proof of [].concat(document.proof || [])) {
    const previous = [].concat(proof.previousProof || []);
    const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
    let outcome;
    try {
      outcome = await suite.verifyProof({
        proof, document: withNamedProofs(document, previous), documentLoader});
    } catch(e) {
      outcome = {verified: false, error: e};
    }
    results.push({
      id: proof.id ?? null,
      verified: outcome.verified,
      controller: outcome.verificationMethod?.controller ?? null,
      error: outcome.error ? String(outcome.error.message || outcome.error) : null
    });
  }
  return results;
}

// Controller documents by id, relative references made absolute (as lib.mjs does for did:web).
function httpsLoader(controllerDocuments) {
  const byId = new Map(controllerDocuments.map(d => [d.id, d]));
  const abs = (ref, base) =>
    typeof ref === 'string' && ref.startsWith('#') ? base + ref : ref;
  return async url => {
    const [base, fragment] = url.split('#');
    const doc = byId.get(base);
    if(!doc) {
      return documentLoader(url); // contexts, did:key
    }
    const absolute = {...doc, assertionMethod: [].concat(doc.assertionMethod || [])
      .map(m => typeof m === 'string' ? abs(m, base) : {...m, id: abs(m.id, base)})};
    if(fragment === undefined) {
      return {contextUrl: null, documentUrl: url, document: absolute};
    }
    const method = [].concat(doc.verificationMethod || [])
      .find(m => abs(m.id, base) === url);
    if(!method) {
      throw new Error(`${url} is not in its controller document`);
    }
    return {contextUrl: null, documentUrl: url, document: {
      '@context': doc['@context'], ...method, id: url,
      controller: abs(method.controller, base)}};
  };
}

async function verifyHttps([file, ...documents]) {
  const credential = JSON.parse(fs.readFileSync(file, 'utf8'));
  const loader = httpsLoader(documents.map(d => JSON.parse(fs.readFileSync(d, 'utf8'))));
  const {verified, errors} = await lib.verify({credential, documentLoader: loader});
  return {verified, errors};
}

const [command, ...rest] = process.argv.slice(2);
const commands = {add, check, 'verify-https': verifyHttps};
if(!commands[command]) {
  console.error('usage: peer-proofs.mjs add|check|verify-https ...');
  process.exit(2);
}
process.stdout.write(JSON.stringify(await commands[command](rest), null, 2) + '\n');
