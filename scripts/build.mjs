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
// `tiny`: no std in the binary, and a panic handler that only aborts (see Cargo.toml).
run('wasm-pack', ['build', '--release', '--target', 'web', '--out-dir', 'pkg', '--out-name', 'keycloak_wasm',
  '--mode', 'no-install', '--no-pack', '--', '--features', 'tiny'])

const wasm = join(pkg, 'keycloak_wasm_bg.wasm')
const glue = join(pkg, 'keycloak_wasm.js')
const wasmOpt = join(root, 'node_modules', '.bin', 'wasm-opt')
const features = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue']
const before = statSync(wasm).size
// --flatten --rereloop first: binaryen rebuilds the control flow with its relooper, which -Oz
// then shrinks to code that compresses better (about 0.4 KB of gzip). Then -Oz until it stops
// shrinking; the producers and target-features sections only serve tools (wasm-bindgen has
// already read them). No -tnh/-iit: they assume traps never happen, and a trap (an abort) must
// stay an abort.
run(wasmOpt, ['--flatten', '--rereloop', '-Oz', '--converge', ...features, '--strip-debug', '--strip-producers',
  '--strip-target-features', wasm, '-o', wasm])
console.log(`wasm-opt -Oz: ${before} -> ${statSync(wasm).size} bytes`)
minifyNames()

/**
 * wasm-bindgen names every import and export after the Rust item plus a hash
 * (`__wbg_getItem_49556a3e59cfb688`), once in the wasm and once in the glue. wasm-opt renames
 * them to one or two letters and prints the mapping; the glue is rewritten to match, and the
 * build fails if any old name is left or any new one is missing.
 */
function minifyNames () {
  const moduleNames = (file) => [...new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(file))).map((i) => i.module))]
  const [oldModule, ...others] = moduleNames(wasm)
  if (others.length) throw new Error(`wasm imports from several modules: ${moduleNames(wasm)}`)
  const mapping = JSON.parse(execFileSync(wasmOpt, [...features, '--minify-imports-and-exports-and-modules', wasm, '-o', wasm],
    { cwd: root, encoding: 'utf8' }))
  const [newModule] = moduleNames(wasm)
  let js = readFileSync(glue, 'utf8')
  const replace = (pattern, to, what) => {
    const next = js.replace(pattern, to)
    if (next === js) throw new Error(`glue: ${what} not found`)
    js = next
  }
  replace(JSON.stringify(oldModule) + ':', JSON.stringify(newModule) + ':', `module ${oldModule}`)
  for (const [module, name, short] of mapping.imports) {
    if (module !== oldModule) throw new Error(`unexpected import module ${module}`)
    replace(new RegExp(`(?<=[{,\\s])${name}(?=:)`, 'g'), JSON.stringify(short), `import ${name}`)
  }
  for (const [name, short] of mapping.exports) {
    // Exports the glue does not use (wasm-bindgen's abort hooks) need no rewrite.
    if (!new RegExp(`\\bwasm\\.${name}\\b`).test(js)) continue
    replace(new RegExp(`\\bwasm\\.${name}\\b`, 'g'), `wasm[${JSON.stringify(short)}]`, `export ${name}`)
  }
  // (The glue also has local functions named after exports; esbuild renames those.)
  const left = mapping.imports.find(([, name]) => new RegExp(`(?<=[{,\\s])${name}(?=:)`).test(js)) ??
    mapping.exports.find(([name]) => new RegExp(`\\bwasm\\.${name}\\b`).test(js))
  if (left) throw new Error(`glue: ${left} was not renamed`)
  writeFileSync(glue, js)
  console.log(`minified ${mapping.imports.length} import and ${mapping.exports.length} export names: ${statSync(wasm).size} bytes`)
}

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
