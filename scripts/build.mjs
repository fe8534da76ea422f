// Builds the npm package into pkg/: wasm-pack (release, ESM for browsers and bundlers), then
// binaryen's wasm-opt from npm, then the hand-written entry point, types, README and licence.
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync, rmSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = join(root, 'pkg')
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })

rmSync(pkg, { recursive: true, force: true })
// --mode no-install: use the pinned wasm-bindgen CLI from scripts/setup.sh, never a private copy.
run('wasm-pack', ['build', '--release', '--target', 'web', '--out-dir', 'pkg', '--out-name', 'keycloak_wasm',
  '--mode', 'no-install', '--no-pack'])

const wasm = join(pkg, 'keycloak_wasm_bg.wasm')
const before = statSync(wasm).size
run(join(root, 'node_modules', '.bin', 'wasm-opt'), ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', wasm, '-o', wasm])
console.log(`wasm-opt -Oz: ${before} -> ${statSync(wasm).size} bytes`)

// wasm-pack's generated files that the package does not ship.
for (const file of ['package.json', 'README.md', '.gitignore', 'keycloak_wasm_bg.wasm.d.ts']) {
  rmSync(join(pkg, file), { force: true })
}
for (const file of ['keycloak.js', 'keycloak.d.ts']) {
  copyFileSync(join(root, 'js', file), join(pkg, file))
}
copyFileSync(join(root, 'js', 'README.md'), join(pkg, 'README.md'))
copyFileSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'))

const workspace = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const manifest = {
  name: 'keycloak-wasm',
  version: workspace.version,
  description: 'A drop-in replacement for keycloak-js, the Keycloak browser adapter, in Rust compiled to WebAssembly',
  license: 'Apache-2.0',
  type: 'module',
  main: './keycloak.js',
  module: './keycloak.js',
  types: './keycloak.d.ts',
  exports: {
    '.': { types: './keycloak.d.ts', default: './keycloak.js' },
    './keycloak_wasm_bg.wasm': './keycloak_wasm_bg.wasm',
    './package.json': './package.json'
  },
  files: ['keycloak.js', 'keycloak.d.ts', 'keycloak_wasm.js', 'keycloak_wasm.d.ts', 'keycloak_wasm_bg.wasm', 'README.md', 'LICENSE'],
  sideEffects: false,
  keywords: ['keycloak', 'oidc', 'oauth2', 'sso', 'pkce', 'webassembly', 'wasm'],
  repository: { type: 'git', url: 'git+https://github.com/keycloak-wasm/keycloak-wasm.git' }
}
writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
console.log('built pkg/')
