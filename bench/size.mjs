// Size benchmark: the bytes keycloak-wasm ships (wasm + JavaScript) beside keycloak-js 26.2.4,
// both measured in this run the same way. JavaScript is minified with esbuild first, as any
// production bundler would; the wasm is measured as built. Compressed with gzip -9 and brotli -11.
// Writes bench/results/size.json.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync, brotliCompressSync, constants } from 'node:zlib'
import { transformSync } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const minify = (code) => transformSync(code, { minify: true, format: 'esm' }).code

function measure (bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
  }
}

const sum = (parts) => parts.reduce((total, p) => ({
  raw: total.raw + p.raw, gzip: total.gzip + p.gzip, brotli: total.brotli + p.brotli
}), { raw: 0, gzip: 0, brotli: 0 })

const read = (...path) => readFileSync(join(root, ...path))
const ours = {
  'keycloak_wasm_bg.wasm': measure(read('pkg', 'keycloak_wasm_bg.wasm')),
  'keycloak.js (min)': measure(Buffer.from(minify(read('pkg', 'keycloak.js').toString()))),
  'keycloak_wasm.js (min)': measure(Buffer.from(minify(read('pkg', 'keycloak_wasm.js').toString())))
}
const oursTotal = sum(Object.values(ours))
const theirs = measure(Buffer.from(minify(read('node_modules', 'keycloak-js', 'lib', 'keycloak.js').toString())))

const row = (name, m) => `${name.padEnd(28)} ${String(m.raw).padStart(8)} ${String(m.gzip).padStart(8)} ${String(m.brotli).padStart(8)}`
console.log(`${'bytes'.padEnd(28)} ${'raw'.padStart(8)} ${'gzip -9'.padStart(8)} ${'brotli'.padStart(8)}`)
for (const [name, m] of Object.entries(ours)) console.log(row(`  ${name}`, m))
console.log(row('keycloak-wasm total', oursTotal))
console.log(row('keycloak-js 26.2.4 (min)', theirs))
const ratio = (key) => (oursTotal[key] / theirs[key]).toFixed(2)
console.log(`ratio keycloak-wasm / keycloak-js: raw ${ratio('raw')}x, gzip ${ratio('gzip')}x, brotli ${ratio('brotli')}x`)

const out = join(root, 'bench', 'results')
mkdirSync(out, { recursive: true })
writeFileSync(join(out, 'size.json'), JSON.stringify({
  keycloakWasm: { files: ours, total: oursTotal },
  keycloakJs: { version: '26.2.4', minifier: 'esbuild', total: theirs },
  ratio: { raw: Number(ratio('raw')), gzip: Number(ratio('gzip')), brotli: Number(ratio('brotli')) }
}, null, 2) + '\n')
console.log('wrote bench/results/size.json')
