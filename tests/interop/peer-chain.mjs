#!/usr/bin/env node
// Proof sets and chains made and checked by the Digital Bazaar stack, for
// tests/interop/test_peer_chains.py.  Run with the peer harness folder (scripts/peer,
// CREDFOLIO_PEER_DIR) as the working directory:
//   node <this file> add IN.json SEED_HEX PROOF_ID CREATED [PREVIOUS_ID...]
//     prints IN with one more eddsa-rdfc-2022 proof (id PROOF_ID) by the did:key of the seed,
//     chained to PREVIOUS_ID... when given;
//   node <this file> check IN.json
//     prints [{"id", "verified", "controller", "error"}], one entry per proof.
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

async function add([file, seedHex, proofId, created, ...previous]) {
  const document = JSON.parse(fs.readFileSync(file, 'utf8'));
  const {keyPair} = await keyFromSeed(seedHex);
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

const [command, ...rest] = process.argv.slice(2);
const commands = {add, check};
if(!commands[command]) {
  console.error('usage: peer-chain.mjs add|check ...');
  process.exit(2);
}
process.stdout.write(JSON.stringify(await commands[command](rest), null, 2) + '\n');
