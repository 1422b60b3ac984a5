import {
  runChecks
} from "./chunk-ZRGYL2CZ.js";
import "./chunk-7CANT5TN.js";

// agent/dist/preflight/command.js
import { existsSync, writeFileSync } from "node:fs";
async function runCheck(config, flags, _log) {
  const i = flags.indexOf("--output");
  const output = i >= 0 ? flags[i + 1] : "text";
  if (i >= 0 && output === void 0) {
    process.stderr.write("ebpf-agent: --output needs a value: text or json\n");
    return 2;
  }
  if (output !== "text" && output !== "json") {
    process.stderr.write(`ebpf-agent: invalid --output=${JSON.stringify(output)}: expected text or json
`);
    return 2;
  }
  const results = await runChecks(config);
  const failed = results.some((r) => r.status === "fail");
  if (output === "json") {
    process.stdout.write(JSON.stringify({ ok: !failed, checks: results }, null, 2) + "\n");
  } else {
    for (const r of results)
      process.stdout.write(formatLine(r) + "\n");
    process.stdout.write(failed ? "preflight: FAILED\n" : "preflight: ok\n");
  }
  if (failed)
    writeTerminationMessage(results);
  return failed ? 1 : 0;
}
var TERMINATION_LOG = "/dev/termination-log";
var TERMINATION_LOG_MAX = 4096;
function writeTerminationMessage(results, path = TERMINATION_LOG) {
  if (!existsSync(path))
    return;
  const text = results.filter((r) => r.status === "fail").map(formatLine).join("\n") + "\n";
  try {
    writeFileSync(path, Buffer.from(text).subarray(0, TERMINATION_LOG_MAX));
  } catch {
  }
}
function formatLine(r) {
  const head = [`${r.status.toUpperCase().padEnd(4)} ${r.name}: ${r.detail}`, ...(r.lines ?? []).map((l) => `     ${l}`)].join("\n");
  return r.fix ? `${head}
     fix: ${r.fix}` : head;
}
export {
  TERMINATION_LOG,
  formatLine,
  runCheck
};
