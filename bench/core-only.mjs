// Size probe: the pure protocol logic (src/core) as a wasm module of its own, with the exports a
// JavaScript-driven adapter would call (bench/core-only/src/lib.rs), built and optimised like the
// package. It answers how small the wasm could get if JavaScript did all the orchestration.
// Run after `npm run setup`: node bench/core-only.mjs
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { transformSync } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const target = join(root, 'target', 'core-only')
const out = join(target, 'out')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })

run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown',
  '--manifest-path', join(root, 'bench', 'core-only', 'Cargo.toml'), '--target-dir', target])
rmSync(out, { recursive: true, force: true })
run('wasm-bindgen', ['--target', 'web', '--out-dir', out,
  join(target, 'wasm32-unknown-unknown', 'release', 'core_only.wasm')])
const wasm = join(out, 'core_only_bg.wasm')
run(join(root, 'node_modules', '.bin', 'wasm-opt'), ['--flatten', '--rereloop', '-Oz', '--converge',
  '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext', '--enable-mutable-globals',
  '--enable-reference-types', '--enable-multivalue', '--strip-debug', '--strip-producers', '--strip-target-features',
  wasm, '-o', wasm])

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length
const wasmBytes = readFileSync(wasm)
const glue = Buffer.from(transformSync(readFileSync(join(out, 'core_only.js'), 'utf8'), { minify: true, format: 'esm' }).code)
console.log(`core only: wasm ${wasmBytes.length} raw / ${gzip(wasmBytes)} gzip -9; glue (min) ${glue.length} raw / ${gzip(glue)} gzip -9; ` +
  `together ${gzip(wasmBytes) + gzip(glue)} gzip -9`)
