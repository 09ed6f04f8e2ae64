// Validate JSON documents against the bundled 1EdTech OB 3.0 JSON Schemas with ajv, the way
// strict outside validators run them: draft 2019-09 (Ajv2019), formats on (ajv-formats), every
// error reported.  Offline: only the schemas in SCHEMA_DIR are known; no $ref is ever fetched.
//
//   node validate.mjs SCHEMA_DIR KIND=FILE.json [KIND=FILE.json ...]
//
// KIND names a schema file in SCHEMA_DIR (achievementcredential, endorsementcredential,
// profile).  Prints one JSON line per document: {"file", "kind", "valid", "errors": [
// {"instancePath", "message"}]}.  Exit 0 when every document is valid, 1 when one is not,
// 2 on bad arguments.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019.js";
import addFormats from "ajv-formats";

const [schemaDir, ...pairs] = process.argv.slice(2);
if (!schemaDir || pairs.length === 0) {
  console.error("usage: node validate.mjs SCHEMA_DIR KIND=FILE.json [KIND=FILE.json ...]");
  process.exit(2);
}
// strict: false only relaxes ajv's complaints about the *schemas* (unknown keywords such as
// the 1EdTech "$comment"-like annotations); validation of the documents stays strict.
const ajv = new Ajv2019({ allErrors: true, strict: false });
addFormats(ajv);
for (const name of readdirSync(schemaDir).filter((n) => n.endsWith(".json"))) {
  ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, name), "utf8")), name.slice(0, -5));
}
let allValid = true;
for (const pair of pairs) {
  const at = pair.indexOf("=");
  if (at < 1) {
    console.error(`expected KIND=FILE, got ${pair}`);
    process.exit(2);
  }
  const kind = pair.slice(0, at);
  const file = pair.slice(at + 1);
  const validate = ajv.getSchema(kind);
  if (!validate) {
    console.error(`no bundled schema ${kind}`);
    process.exit(2);
  }
  const valid = validate(JSON.parse(readFileSync(file, "utf8")));
  allValid &&= valid;
  const errors = (validate.errors || []).map((e) => ({
    instancePath: e.instancePath,
    message: e.message,
  }));
  console.log(JSON.stringify({ file, kind, valid, errors }));
}
process.exit(allValid ? 0 : 1);
