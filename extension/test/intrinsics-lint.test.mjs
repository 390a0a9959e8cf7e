// The page runtime's sources keep to the rules that keep page scripts away
// from its internals (ARCHITECTURE.md, "Invariants"; extension/src/page/
// intrinsics.js): a page may patch any built-in prototype or define
// accessors on Object.prototype, so the runtime may not meet them with its
// own objects. This test parses every source the MAIN-world content script
// is bundled from (extension/src/page/*.js, wasm/loader.js, wasm/wasi.js)
// and the worker client (extension/src/worker/client.js, which shares each
// worker's global scope with the worker's own scripts the same way), and
// fails on each construct that would, naming file and line.
//
// An object or array literal, or a class, that is handed to the page on
// purpose (window.mpnet, a property descriptor or event init made at
// install time, an error the app receives) carries a `/* page-visible */`
// comment just before it. The rules test themselves first on a snippet
// that breaks each of them (a rule that cannot fail would be no rule).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { root } from "../tools/harness.mjs";

// acorn comes with webpack (a pinned dev dependency).
const acorn = createRequire(path.join(root, "package.json"))("acorn");

const SOURCES = [
  ...readdirSync(path.join(root, "extension/src/page")).filter((f) => f.endsWith(".js") && f !== "intrinsics.js").map((f) => `extension/src/page/${f}`),
  "wasm/loader.js",
  "wasm/wasi.js",
  // The worker client shares its worker's global scope with the worker's
  // own scripts as the page runtime shares the page's.
  "extension/src/worker/client.js",
];

// Methods that live on Array.prototype or String.prototype (replaceable):
// call them through the uncurried copies of intrinsics.js. (forEach, get,
// set, has, add, delete are the Safe* collections' own.)
const PROTO_METHODS = new Set(["push", "pop", "shift", "unshift", "splice", "slice", "map", "filter", "reduce", "concat", "join",
  "indexOf", "lastIndexOf", "includes", "find", "findIndex", "some", "every", "sort", "reverse", "flat", "flatMap", "fill",
  "then", "catch", "finally", "startsWith", "endsWith", "replace", "replaceAll", "split", "match", "test", "exec", "toLowerCase",
  "toUpperCase", "trim", "padStart", "subarray", "keys", "values", "entries", "bind", "call", "apply", "encode", "decode", "encodeInto",
  // (a channel's or port's postMessage hands the patcher the channel, and
  // with a BroadcastChannel its name: the workers' secret)
  "postMessage"]);
const COLLECTIONS = new Set(["Map", "Set", "WeakMap", "WeakSet", "Promise"]);
// Globals whose members are read at call time: a page may replace them.
const GLOBALS = new Set(["JSON", "Math", "Object", "Reflect", "Array", "Number", "String", "Promise", "Date", "BigInt", "WebAssembly", "Function", "ArrayBuffer"]);

/** lint answers the violations in one source text: [{line, rule, text}]. */
export function lint(text, file = "snippet.js") {
  const comments = [];
  const ast = acorn.parse(text, { ecmaVersion: "latest", sourceType: "module", locations: true, onComment: comments });
  const marked = (node) => comments.some((c) => c.value.trim() === "page-visible" && c.end <= node.start && /^[\s(,=:]*$/.test(text.slice(c.end, node.start)));
  const out = [];
  const bad = (node, rule) => out.push({ file, line: node.loc.start.line, rule, text: text.slice(node.start, Math.min(node.end, node.start + 60)).replace(/\s+/g, " ") });
  const nulled = new Set();
  // Classes cut from Object.prototype: nullProto(Name) anywhere in the file.
  for (const m of text.matchAll(/nullProto\((\w+)\)/g)) nulled.add(m[1]);

  function visit(node, depth, parent) {
    if (!node || typeof node.type !== "string") return;
    switch (node.type) {
      case "ForOfStatement":
        bad(node, "for..of iterates through %ArrayIteratorPrototype%.next (page-replaceable): use an index loop or a Safe* forEach");
        break;
      case "ArrayPattern":
        bad(node, "array destructuring iterates (page-replaceable next): index the array");
        break;
      case "SpreadElement":
        if (parent && parent.type !== "ObjectExpression") bad(node, "spread into an array or a call iterates (page-replaceable next): use list()/copyList() or ReflectApply");
        break;
      case "ArrayExpression":
        if (!marked(node)) bad(node, "an array literal has Array.prototype (indexed setters, replaceable methods): use list(...)");
        break;
      case "ObjectExpression": {
        const nullProto = node.properties.some((p) => p.type === "Property" && !p.computed && (p.key.name === "__proto__" || p.key.value === "__proto__") && p.value.type === "Literal" && p.value.value === null);
        if (!nullProto && !marked(node)) bad(node, "an object literal inherits Object.prototype (page-definable accessors, then, toJSON): add __proto__: null");
        break;
      }
      case "ClassDeclaration":
      case "ClassExpression": {
        const name = node.id && node.id.name;
        const isError = node.superClass && /Error$/.test(node.superClass.name || "");
        if (!nulled.has(name) && !isError && !marked(node)) bad(node, `class ${name || "(anonymous)"} inherits Object.prototype: nullProto(${name || "it"}) after it`);
        break;
      }
      case "NewExpression":
        if (node.callee.type === "Identifier" && COLLECTIONS.has(node.callee.name)) bad(node, `new ${node.callee.name}: use Safe${node.callee.name} from intrinsics.js`);
        break;
      case "CallExpression": {
        const c = node.callee;
        // this.x() calls the runtime's own (null-prototype) methods; at
        // module top level (document start) nothing is patched yet.
        if (depth > 0 && c.type === "MemberExpression" && !c.computed && c.object.type !== "ThisExpression" && PROTO_METHODS.has(c.property.name)) {
          bad(node, `.${c.property.name}() is looked up on a replaceable prototype: use its captured copy from intrinsics.js`);
        }
        break;
      }
      case "MemberExpression":
        if (depth > 0 && node.object.type === "Identifier" && GLOBALS.has(node.object.name)) {
          bad(node, `${node.object.name}.${node.property.name || "[…]"} is read at call time (the page may have replaced it): capture it in intrinsics.js`);
        }
        break;
      case "ForInStatement":
        bad(node, "for..in enumerates inherited (page-added) properties: use ObjectKeys");
        break;
    }
    const fn = /Function/.test(node.type);
    // install*() and start() run at document start, before any page script
    // (the worker client's, before the worker's own scripts).
    const installTime = fn && depth === 0 && node.id && /^(install\w*|start)$/.test(node.id.name);
    const next = fn && !installTime ? depth + 1 : depth;
    for (const key of Object.keys(node)) {
      if (key === "loc" || key === "start" || key === "end") continue;
      const v = node[key];
      if (Array.isArray(v)) for (const c of v) visit(c, next, node);
      else if (v && typeof v.type === "string") visit(v, next, node);
    }
  }
  visit(ast, 0, null);
  return out;
}

test("the lint fails on each construct it forbids", () => {
  const snippet = `
    const a = [1, 2];
    const o = { x: 1 };
    const m = new Map();
    function f(xs) {
      for (const x of xs) g(x);
      const [p, q] = xs;
      g(...xs);
      xs.push(1);
      p.then(g);
      port.postMessage(q);
      return JSON.parse(q);
    }
    class C {}
    for (const k in o) g(k);
  `;
  const rules = lint(snippet).map((v) => v.rule.split(/[ :]/)[0] + "@" + v.line);
  for (const want of ["an@2", "an@3", "new@4", "for..of@6", "array@7", "spread@8", ".push()@9", ".then()@10", ".postMessage()@11", "JSON.parse@12", "class@14", "for..in@15"]) {
    assert.ok(rules.includes(want), `the lint missed ${want}: ${rules.join(", ")}`);
  }
  // What the rules allow: null prototypes, the Safe* collections, captured
  // copies, object spread into a null-prototype literal, marked literals,
  // globals read at module top level.
  const clean = `
    const parseJSON = JSON.parse;
    const a = list(1, 2);
    const o = { __proto__: null, x: 1 };
    const m = new SafeMap();
    class D {}
    nullProto(D);
    function f(xs) {
      for (let i = 0; i < xs.length; i++) ArrayPrototypePush(xs, xs[i]);
      const copy = { __proto__: null, ...o };
      m.forEach((v) => g(v));
      return /* page-visible */ { copy };
    }
  `;
  assert.deepEqual(lint(clean), []);
});

test("the page runtime's and the worker client's sources use no built-in a page can patch", () => {
  const found = [];
  for (const f of SOURCES) found.push(...lint(readFileSync(path.join(root, f), "utf8"), f));
  assert.deepEqual(found.map((v) => `${v.file}:${v.line}: ${v.rule}: ${v.text}`), []);
});
