// Checks the pure helpers of script.js (matcher and duration parsing, formatting) under
// Node, with the few DOM objects the script touches at load stubbed out. Run by
// tests/it/ui.rs as `node script.test.js`; exits non-zero on the first failure.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const element = () => ({
  replaceChildren() {}, append() {}, addEventListener() {}, setAttribute() {},
  classList: { toggle() {} },
});
const context = vm.createContext({
  document: {
    getElementById: element, querySelectorAll: () => [], createElement: element,
    createDocumentFragment: element,
  },
  location: { pathname: "/am/", hash: "" },
  window: { addEventListener() {} },
  Node: class {},
  fetch: async () => ({ ok: true, text: async () => "[]" }),
  URLSearchParams,
});
// Top-level `const`s stay in the script's scope: expose what is tested.
vm.runInContext(
  fs.readFileSync(path.join(__dirname, "script.js"), "utf8") +
    "\nthis.t = { API, splitMatchers, parseMatcher, matcherText, parseDuration, fmtDuration };",
  context,
);
const t = context.t;

let failed = 0;
function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    failed++;
    console.error(`FAIL ${what}: ${a} != ${e}`);
  }
}
function throws(f, what) {
  try {
    f();
  } catch {
    return;
  }
  failed++;
  console.error(`FAIL ${what}: no error`);
}

eq(t.API, "/am/api/v2", "API base from the page path");
eq(t.splitMatchers('{a="1", b=~"x,y", "c d"!="q\\"r"}'), ['a="1"', 'b=~"x,y"', '"c d"!="q\\"r"'], "split braces");
eq(t.splitMatchers("a=1\nb!~2\n\n"), ["a=1", "b!~2"], "split lines");
eq(t.parseMatcher('b=~"x,y"'), { name: "b", value: "x,y", isRegex: true, isEqual: true }, "regex");
eq(t.parseMatcher('"c d"!="q\\"r"'), { name: "c d", value: 'q"r', isRegex: false, isEqual: false }, "quoted");
eq(t.parseMatcher("job = node"), { name: "job", value: "node", isRegex: false, isEqual: true }, "unquoted");
eq(t.parseMatcher("a!~x"), { name: "a", value: "x", isRegex: true, isEqual: false }, "negative regex");
throws(() => t.parseMatcher("just text"), "not a matcher");
throws(() => t.parseMatcher('a="x'), "open quote");
eq(t.matcherText({ name: "a", value: "x", isRegex: true, isEqual: false }), 'a!~"x"', "text !~");
eq(t.matcherText({ name: "a b", value: "x", isRegex: false, isEqual: false }), '"a b"!="x"', "text quoted name");
eq(t.matcherText({ name: "a", value: 'x"', isRegex: false }), 'a="x\\""', "text without isEqual");
eq(t.parseDuration("1h30m"), 5400000, "1h30m");
eq(t.parseDuration(" 2d "), 172800000, "2d");
eq(t.parseDuration("1.5h"), 5400000, "1.5h");
eq(t.parseDuration("500ms"), 500, "500ms");
for (const bad of ["", "1x", "h", "1h 2m", "-1h"]) throws(() => t.parseDuration(bad), `duration ${bad}`);
eq(t.fmtDuration(5400000), "1h30m", "format 1h30m");
eq(t.fmtDuration(694861000), "1w1d1h1m1s", "format all units");
eq(t.fmtDuration(-60000), "1m", "format negative");

if (failed) process.exit(1);
console.log("script helpers: all checks passed");
