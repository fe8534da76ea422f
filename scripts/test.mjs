// Runs every test layer and check, then prints one summary line `N passed, N failed`.
//   lints        rustfmt, clippy (native and wasm32)
//   native       cargo test: src/core unit tests, the devserver's HTTP tests and the hub's (with Redis)
//   browser      wasm-bindgen-test in headless Chromium and Firefox ESR: src/web
//   e2e          node --test + playwright-core in headless Chromium and Firefox ESR against devserver
// Usage: node scripts/test.mjs [layer ...]   (default: all layers)
//        E2E_BROWSERS=firefox node scripts/test.mjs e2e   (engines: chromium,firefox by default)
import { spawnSync } from 'node:child_process'
import { readdirSync, existsSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The browser engines, their names in reports, and the WebDriver each one's wasm tests use. */
const ENGINES = {
  chromium: { title: 'Chromium', driver: { CHROMEDRIVER: process.env.CHROMEDRIVER ?? '/usr/bin/chromedriver' } },
  firefox: { title: 'Firefox', driver: { GECKODRIVER: process.env.GECKODRIVER ?? 'geckodriver' } }
}
const engines = (process.env.E2E_BROWSERS ?? Object.keys(ENGINES).join(',')).split(',').map((s) => s.trim()).filter(Boolean)
for (const engine of engines) {
  if (!ENGINES[engine]) {
    console.error(`unknown engine '${engine}' in E2E_BROWSERS; engines: ${Object.keys(ENGINES).join(', ')}`)
    process.exit(2)
  }
}
// wasm-bindgen-test-runner drives the first browser whose driver variable is set: only one is.
const DRIVER_VARIABLES = ['CHROMEDRIVER', 'GECKODRIVER', 'SAFARIDRIVER', 'MSEDGEDRIVER']
const wasmEnv = (engine) => ({
  ...Object.fromEntries(DRIVER_VARIABLES.map((name) => [name, undefined])),
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: 'wasm-bindgen-test-runner',
  ...ENGINES[engine].driver
})
// End-to-end files that drive no browser: they run once, with the first engine.
const ENGINE_FREE = ['tests/e2e/types.test.mjs', 'tests/e2e/scenarios/admin-client.test.mjs']
const results = []

/** Runs a command with its output shown, and returns its exit status and output. */
function run (cmd, args, env = {}) {
  const shown = Object.entries(env).filter(([name, value]) => value !== undefined && /^E2E_|DRIVER$/.test(name))
  console.log(`\n\x1b[1m$ ${shown.map(([name, value]) => `${name}=${value} `).join('')}${cmd} ${args.join(' ')}\x1b[0m`)
  const merged = { ...process.env, ...env }
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name]
  const child = spawnSync(cmd, args, { cwd: root, env: merged, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  process.stdout.write(child.stdout ?? '')
  process.stderr.write(child.stderr ?? '')
  return { status: child.status ?? 1, output: `${child.stdout ?? ''}\n${child.stderr ?? ''}` }
}

/** A check that passes or fails as a whole (lints, builds). */
function check (name, cmd, args, env) {
  const { status } = run(cmd, args, env)
  results.push({ name, passed: status === 0 ? 1 : 0, failed: status === 0 ? 0 : 1 })
  return status === 0
}

/** A test run whose counts come from cargo's `test result:` lines. */
function cargoTests (name, args, env) {
  const { status, output } = run('cargo', args, env)
  let passed = 0
  let failed = 0
  for (const match of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(match[1])
    failed += Number(match[2])
  }
  if (status !== 0 && failed === 0) failed = 1 // a build failure counts as a failure
  results.push({ name, passed, failed })
}

/** A node --test run whose counts come from the TAP summary. */
function nodeTests (name, files, env) {
  const { status, output } = run('node', ['--test', '--test-reporter=tap', ...files], env)
  const passed = Number(/^# pass (\d+)/m.exec(output)?.[1] ?? 0)
  let failed = Number(/^# fail (\d+)/m.exec(output)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(output)?.[1] ?? 0)
  if (status !== 0 && failed === 0) failed = 1
  results.push({ name, passed, failed })
}

const layers = {
  lints () {
    check('rustfmt', 'cargo', ['fmt', '--all', '--', '--check'])
    check('clippy (native)', 'cargo', ['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings'])
    check('clippy (wasm32)', 'cargo', ['clippy', '--lib', '--tests', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings'])
  },
  native () {
    cargoTests('cargo test (core, devserver, hub)', ['test', '--workspace'])
  },
  browser () {
    for (const engine of engines) {
      cargoTests(`wasm-bindgen-test (web, ${ENGINES[engine].title})`, ['test', '--target', 'wasm32-unknown-unknown', '--test', 'web'], wasmEnv(engine))
    }
  },
  e2e () {
    const built = check('build pkg/', 'node', ['scripts/build.mjs']) &&
      check('build devserver', 'cargo', ['build', '-p', 'devserver'])
    if (!built) return
    const dirs = ['tests/e2e', 'tests/e2e/adapter', 'tests/e2e/iframes', 'tests/e2e/socket', 'tests/e2e/scenarios'].filter((dir) => existsSync(join(root, dir)))
    const files = dirs.flatMap((dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.mjs')).map((f) => `${dir}/${f}`))
    for (const [i, engine] of engines.entries()) {
      const chosen = i === 0 ? files : files.filter((file) => !ENGINE_FREE.includes(file))
      nodeTests(`end-to-end (${ENGINES[engine].title})`, chosen, { E2E_BROWSER: engine })
    }
  }
}

const chosen = process.argv.slice(2)
for (const name of chosen.length ? chosen : Object.keys(layers)) {
  if (!layers[name]) {
    console.error(`unknown layer '${name}'; layers: ${Object.keys(layers).join(', ')}`)
    process.exit(2)
  }
  layers[name]()
}

console.log('\nsummary:')
for (const r of results) console.log(`  ${r.failed ? 'FAIL' : 'ok  '} ${r.name}: ${r.passed} passed, ${r.failed} failed`)
const passed = results.reduce((n, r) => n + r.passed, 0)
const failed = results.reduce((n, r) => n + r.failed, 0)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
