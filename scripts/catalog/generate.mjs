// Derives internal/catalog/catalog.json from the platform API declarations
// shipped by the npm package kuaishou-merchant-open-api (pinned in
// package-lock.json): `make catalog` writes it, `make catalog-check`
// regenerates it into a temporary directory and compares. The format is
// described in README.md beside this script and in internal/catalog/doc.go.
//
// The declarations are read with the TypeScript compiler's parser, never
// evaluated: api.declaration.d.ts holds one interface member per API
// ("open.x.y": { request: {...}; response: {...} }) and shared named
// interfaces for nested objects; api.default.method.js holds the default
// HTTP verb per API as an object literal.
//
// Usage: node generate.mjs [--out FILE]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const PKG = 'kuaishou-merchant-open-api';
const pkgDir = path.dirname(require.resolve(`${PKG}/package.json`));
const pkgVersion = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
const DECL = 'types/common/interface/api.declaration.d.ts';
const METHODS = 'es/common/constant/api.default.method.js';

// The members of every answer that are the platform's envelope; the others
// are the answer's payload ("top-level" members: data, or a list beside it).
const ENVELOPE = new Set(['code', 'msg', 'sub_code', 'sub_msg', 'result', 'error_msg']);

// Descriptions are cut to this many characters (Unicode code points).
const MAX_DESCRIPTION = 200;

function fail(msg) {
  throw new Error(`catalog: ${msg}`);
}

function parse(rel, kind) {
  const file = path.join(pkgDir, rel);
  return ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, kind);
}

function propName(m) {
  if (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) return m.name.text;
  return fail(`unexpected member name ${m.name.getText()}`);
}

// description returns a node's JSDoc text, one line, without the platform
// documentation's markup ("[label@https://…]" links and "@red" emphasis),
// cut to MAX_DESCRIPTION code points.
function description(node) {
  let text = ts
    .getJSDocCommentsAndTags(node)
    .map((d) => (typeof d.comment === 'string' ? d.comment : ''))
    .join(' ');
  text = text
    .replace(/\[([^\]@]*)@(?:https?:\/\/[^\]\s]*|red)\]/g, '$1')
    .replace(/https?:\/\/\S+/g, '')
    .replace(/@red\b/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const cps = [...text];
  return cps.length > MAX_DESCRIPTION ? cps.slice(0, MAX_DESCRIPTION - 1).join('') + '…' : text;
}

// ---------------------------------------------------------------------------
// integer or number
//
// TypeScript has one `number`. A field is an integer when its name or its
// description says it identifies, counts, enumerates or is given in an
// integral unit; everything else stays `number` (a fraction is accepted), so
// validation never refuses a value the platform may take. First rule that
// applies wins:
//   1. an integral unit in the description: 分 as a unit ("（分）", "单位分",
//      "金额，分"), 千分/万分 (per-mille rates), 毫秒, 时间戳, 秒 → integer;
//   2. an identifier: a name word id, ids, oid, pid or cid, or "ID"/"id" as a
//      word of the description ("人群包ID") → integer;
//   3. an enumeration in the description ("1 增加库存 2 减少库存",
//      "0:未知, 1:…", "1-快手小店") → integer;
//   4. a fractional word in the name (weight, volume, length, width, height,
//      rate, ratio, score, percent, value, latitude, longitude, money) or a
//      fractional unit in the description (小数点/小数位, 公斤, kg, 元, 米, 厘米, 克)
//      → number;
//   5. a name word that counts or identifies: count, cnt, num, number, no,
//      total, size, page, pageize, cursor, offset, limit, quantity, stock,
//      times, index, time, timestamp, date, days, status, state, type, types,
//      sort, flag, code, version, level, mode, scene, source, role, channel,
//      way, action, seq, step, amount, price, fee, pay, balance, income,
//      result → integer;
//   6. a count in the description (数量, 次数, 个数, 件数, 数目, 销量, 序号,
//      层级) → integer;
//   7. otherwise number.
// Names are split into words at camelCase humps and underscores.
// ---------------------------------------------------------------------------
const ID_WORDS = new Set(['id', 'ids', 'oid', 'pid', 'cid']);
const FRACTION_WORDS = new Set([
  'weight', 'volume', 'length', 'width', 'height', 'rate', 'ratio', 'score', 'percent', 'value', 'latitude', 'longitude', 'money',
]);
const INTEGER_WORDS = new Set([
  'count', 'cnt', 'num', 'number', 'no', 'total', 'size', 'page', 'pageize', 'cursor', 'offset', 'limit', 'quantity', 'stock',
  'times', 'index', 'time', 'timestamp', 'date', 'days', 'status', 'state', 'type', 'types', 'sort', 'flag', 'code', 'version',
  'level', 'mode', 'scene', 'source', 'role', 'channel', 'way', 'action', 'seq', 'step', 'amount', 'price', 'fee', 'pay',
  'balance', 'income', 'result',
]);
const INTEGRAL_UNIT = /[（(]\s*分\s*[）)]|单位[:：]?\s*(?:为)?\s*分|[,，]\s*分\s*(?:$|[,，;；。])|千分|万分|毫秒|时间戳|[（(]\s*秒\s*[）)]|单位[:：]?\s*秒/;
const ID_IN_DESCRIPTION = /(?:^|[^A-Za-z])(?:ID|Id|id)(?:$|[^A-Za-z])/;
const FRACTIONAL_UNIT = /小数点|小数位|位小数|公斤|kg|元|米|克/i;
const ENUMERATION = /(?:^|[^\d.])\d+\s*[-:：、=]\s*[^\d\s,，、;；.。%]+|(?:^|[^\d.])\d+\s*[^\d\s,，、;；.。%:：-]+[\s,，、;；]+\d+\s*[-:：、=]?\s*[^\d\s,，、;；.。%]+/;
const COUNT_IN_DESCRIPTION = /数量|次数|个数|件数|数目|销量|序号|层级/;

function words(name) {
  return name
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean);
}

function numberKind(name, desc) {
  const ws = words(name);
  if (INTEGRAL_UNIT.test(desc)) return 'integer';
  if (ws.some((w) => ID_WORDS.has(w)) || ID_IN_DESCRIPTION.test(desc)) return 'integer';
  if (ENUMERATION.test(desc)) return 'integer';
  if (ws.some((w) => FRACTION_WORDS.has(w)) || FRACTIONAL_UNIT.test(desc)) return 'number';
  if (ws.some((w) => INTEGER_WORDS.has(w))) return 'integer';
  if (COUNT_IN_DESCRIPTION.test(desc)) return 'integer';
  return 'number';
}

// ---------------------------------------------------------------------------
// documented limits, from a field's own description
// ---------------------------------------------------------------------------
const CN_DIGITS = { 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9, 十: 10 };
function toInt(s) {
  if (/^\d+$/.test(s)) return Number(s);
  if (s in CN_DIGITS) return CN_DIGITS[s];
  return undefined;
}

// An array's entry limit: "最多100条", "不超过100条", "最多上传9张", "上限10个",
// "数量不超过20", "最多支持10个订单", "最大20个", "最多三组". The count must
// be followed by a counting word (条张个组项笔) or end a "数量…" phrase
// ("0 < 数量 <= 600", "（<=10个）"), and a
// counting word followed by 字/汉字/字符 is a length, not an entry count.
const MAX_ITEMS = [
  /(?:最多|至多|不超过|不能超过|上限|最大)\s*(?:支持|上传|上传上传|返回|定义|传入|为)?\s*(\d+|[一二两三四五六七八九十])\s*(?:条|张|个|组|项|笔)(?!\s*(?:汉字|字符|字))/,
  /数量\s*(?:不超过|不能超过|上限|最多|<=)\s*(\d+)(?!\s*(?:汉字|字符|字|元|分))/,
  /[（(]\s*<=\s*(\d+)\s*(?:条|张|个|组|项|笔)\s*[）)]/,
];
// A string's length limit: "最多128字符", "长度不能超过128", "最大支持32个字符长度",
// "长度上限300", "0 < 长度 <= 1000", "字符长度<=60", "最大长度60". ("最多10个汉字(20个字符）"
// is not taken: which of the two counts is the platform's.)
const MAX_LENGTH = [
  /(?:最多|不超过|不能超过)\s*(\d+)\s*个?字符/,
  /长度\s*(?:不能超过|不超过|上限|最大为?)\s*(\d+)/,
  /最大支持\s*(\d+)\s*个?字符长度/,
  /(?:长度|字符数)\s*<=\s*(\d+)/,
  /最大长度\s*(\d+)/,
];
// An integer's upper bound: "最大500", "最大为50", "最大值20", "最大限制为100",
// "最大不超过200", "最大不能超过2000", "最多一页50条", "数值 <= 9999999",
// "每页条数<=200", "（不超过50）", "上限值50". A bound that depends on another field ("如果propId=102,
// 则最大允许输入2000") or limits a difference of two fields is not taken.
const MAXIMUM = [
  /最大(?:值|为|限制为|不超过|不能超过)?\s*[:：]?\s*(\d+)(?!\s*(?:个|条|张|字|M|m|K|k|位|\d))/,
  /最多一页\s*(\d+)\s*条/,
  /[（(]\s*不超过\s*(\d+)\s*[）)]/,
  /上限值\s*(\d+)/,
  /(?:数值|条数)\s*<=\s*(\d+)(?!\s*[\d.])/,
];
// An integer's lower bound: "1 <= 数值".
const MINIMUM = [/(?:^|[^\d])(\d+)\s*<=\s*数值/];

function firstMatch(patterns, desc) {
  for (const re of patterns) {
    const m = re.exec(desc);
    if (m) {
      const n = toInt(m[1]);
      if (n !== undefined) return n;
    }
  }
  return undefined;
}

function addLimits(schema, desc) {
  if (!desc) return schema;
  if (schema.type === 'array') {
    const n = firstMatch(MAX_ITEMS, desc);
    if (n !== undefined && n > 0) schema.maxItems = n;
  } else if (schema.type === 'string' && !schema.file) {
    const n = firstMatch(MAX_LENGTH, desc);
    if (n !== undefined && n > 0) schema.maxLength = n;
  } else if (schema.type === 'integer') {
    const max = firstMatch(MAXIMUM, desc);
    const min = firstMatch(MINIMUM, desc);
    if (max !== undefined && (min === undefined || min <= max)) schema.maximum = max;
    if (min !== undefined && (max === undefined || min <= max)) schema.minimum = min;
  }
  return schema;
}

// ---------------------------------------------------------------------------
// schemas
// ---------------------------------------------------------------------------
const interfaces = new Map();

function isFileType(t) {
  const txt = t.getText().replace(/\s+/g, '');
  return txt === 'Buffer' || txt === 'NodeJS.ReadableStream' || txt === 'Blob';
}

// typeSchema maps one type node; name and desc are the field's, for the
// integer rule and the limits.
function typeSchema(t, name, desc) {
  switch (t.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.NumberKeyword:
      return { type: numberKind(name, desc) };
    case ts.SyntaxKind.ArrayType:
      return { type: 'array', items: typeSchema(t.elementType, name, desc) };
    case ts.SyntaxKind.TypeLiteral:
      return objectSchema(t.members);
    case ts.SyntaxKind.UnionType:
      if (t.types.every(isFileType)) return { type: 'string', file: true };
      return fail(`unsupported union ${t.getText()} for ${name}`);
    case ts.SyntaxKind.TypeReference: {
      const ref = t.typeName.getText();
      if (isFileType(t)) return { type: 'string', file: true };
      if (ref === 'Record') {
        const [k] = t.typeArguments ?? [];
        if (!k || k.kind !== ts.SyntaxKind.StringKeyword) fail(`unsupported ${t.getText()} for ${name}`);
        return { type: 'object', additionalProperties: true };
      }
      if (!interfaces.has(ref)) fail(`unknown type ${ref} for ${name}`);
      return { ref };
    }
    default:
      return fail(`unsupported type ${ts.SyntaxKind[t.kind]} (${t.getText()}) for ${name}`);
  }
}

// objectSchema maps the members of an interface or a type literal. The
// declarations close every object with `[k: string]: unknown` (the JSON
// Schema generator's default, not a documented free-form map), so the index
// signature is ignored: the named members are the documented ones.
function objectSchema(members) {
  const properties = {};
  const required = [];
  for (const m of members) {
    if (ts.isIndexSignatureDeclaration(m)) continue;
    if (!ts.isPropertySignature(m) || !m.type) fail(`unexpected member ${m.getText()}`);
    const name = propName(m);
    if (Object.hasOwn(properties, name)) fail(`duplicate member ${name}`);
    const desc = description(m);
    const s = addLimits(typeSchema(m.type, name, desc), desc);
    if (desc) s.description = desc;
    properties[name] = s;
    if (!m.questionToken) required.push(name);
  }
  const out = { type: 'object', properties };
  if (required.length) out.required = required.sort();
  return out;
}

function refsIn(schema, into) {
  if (!schema || typeof schema !== 'object') return;
  if (schema.ref) into.add(schema.ref);
  for (const v of Object.values(schema)) if (v && typeof v === 'object') refsIn(v, into);
}

// ---------------------------------------------------------------------------
// verbs: api.default.method.js is `var defaultMethod = { "open.x": "GET", … }`
// ---------------------------------------------------------------------------
function readVerbs() {
  const sf = parse(METHODS, ts.ScriptKind.JS);
  const verbs = new Map();
  let found = false;
  const visit = (n) => {
    if (ts.isVariableDeclaration(n) && n.initializer && ts.isObjectLiteralExpression(n.initializer) && n.name.getText() === 'defaultMethod') {
      found = true;
      for (const p of n.initializer.properties) {
        if (!ts.isPropertyAssignment(p) || !ts.isStringLiteral(p.initializer)) fail(`unexpected entry ${p.getText()} in ${METHODS}`);
        const name = propName(p);
        const verb = p.initializer.text;
        if (verb !== 'GET' && verb !== 'POST') fail(`${name}: verb ${verb}`);
        if (verbs.has(name)) fail(`${name}: two verbs`);
        verbs.set(name, verb);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  if (!found) fail(`no defaultMethod object in ${METHODS}`);
  return verbs;
}

// ---------------------------------------------------------------------------
// the catalog
// ---------------------------------------------------------------------------
function build() {
  const sf = parse(DECL, ts.ScriptKind.TS);
  let apiDecl;
  for (const st of sf.statements) {
    if (!ts.isInterfaceDeclaration(st)) continue;
    if (st.name.text === 'ApiDeclaration') apiDecl = st;
    else interfaces.set(st.name.text, st);
  }
  if (!apiDecl) fail('no ApiDeclaration interface');
  const verbs = readVerbs();

  const apis = {};
  for (const m of apiDecl.members) {
    if (ts.isIndexSignatureDeclaration(m)) continue;
    if (!ts.isPropertySignature(m) || !m.type || !ts.isTypeLiteralNode(m.type)) fail(`unexpected API member ${m.getText().slice(0, 80)}`);
    const name = propName(m);
    if (Object.hasOwn(apis, name)) fail(`duplicate API ${name}`);
    const verb = verbs.get(name);
    if (!verb) fail(`${name}: no default verb`);
    const parts = {};
    for (const p of m.type.members) {
      if (ts.isIndexSignatureDeclaration(p)) continue;
      const part = propName(p);
      if (part !== 'request' && part !== 'response') fail(`${name}: unexpected member ${part}`);
      if (!p.type || !ts.isTypeLiteralNode(p.type)) fail(`${name}.${part}: not an object`);
      parts[part] = objectSchema(p.type.members);
    }
    const request = parts.request ?? { type: 'object', properties: {} };
    const response = parts.response ?? fail(`${name}: no response`);
    const topLevel = Object.keys(response.properties).filter((k) => !ENVELOPE.has(k)).sort();
    const api = { verb, request, response, topLevel };
    const desc = description(m);
    if (desc) api.description = desc;
    apis[name] = api;
  }
  for (const name of verbs.keys()) if (!Object.hasOwn(apis, name)) fail(`${name}: a verb but no declaration`);

  // Shared definitions, each reachable from some API (and the ones they
  // reach); an object's own description is its interface's JSDoc.
  const defs = {};
  const pending = new Set();
  for (const a of Object.values(apis)) {
    refsIn(a.request, pending);
    refsIn(a.response, pending);
  }
  while (pending.size) {
    const [ref] = pending;
    pending.delete(ref);
    if (Object.hasOwn(defs, ref)) continue;
    const decl = interfaces.get(ref);
    const s = objectSchema(decl.members);
    const desc = description(decl);
    if (desc) s.description = desc;
    defs[ref] = s;
    const more = new Set();
    refsIn(s, more);
    for (const r of more) if (!Object.hasOwn(defs, r)) pending.add(r);
  }

  return {
    source: { package: `${PKG}@${pkgVersion}`, declarations: DECL, verbs: METHODS },
    apis,
    defs,
  };
}

// sortKeys returns value with every object's keys in code-unit order, so the
// file is the same bytes whatever order the declarations come in.
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

function main() {
  const args = process.argv.slice(2);
  let out = path.resolve(here, '../../internal/catalog/catalog.json');
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out' && i + 1 < args.length) out = path.resolve(args[++i]);
    else fail(`usage: node generate.mjs [--out FILE]`);
  }
  const catalog = build();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(sortKeys(catalog), null, 1) + '\n');
  const n = Object.keys(catalog.apis).length;
  console.log(`catalog: ${n} APIs, ${Object.keys(catalog.defs).length} shared objects → ${path.relative(process.cwd(), out)}`);
}

main();
