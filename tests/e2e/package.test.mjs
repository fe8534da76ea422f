// The packed npm package (npm pack of pkg/) works where users load it: a plain
// <script type="module"> page with an import map, a Vite production build, and Node (SSR).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT, startAppServer, launchBrowser } from './harness.mjs'

const WORK = join(ROOT, 'tests', 'e2e', '.work', 'package')
const CONFIG = { url: 'https://sso.example.com/', realm: 'demo realm', clientId: 'spa' }
const EXPECTED_AUTHORIZE = 'https://sso.example.com/realms/demo%20realm/protocol/openid-connect/auth'

let tarball, unpacked, browser

before(async () => {
  rmSync(WORK, { recursive: true, force: true })
  mkdirSync(WORK, { recursive: true })
  const name = execFileSync('npm', ['pack', join(ROOT, 'pkg'), '--pack-destination', WORK, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()
  tarball = join(WORK, name)
  execFileSync('tar', ['xzf', tarball, '-C', WORK])
  unpacked = join(WORK, 'package')
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

test('the packed package holds the entry, the glue, the wasm, types, README and licence', () => {
  const files = readdirSync(unpacked).sort()
  for (const file of ['keycloak.js', 'keycloak.d.ts', 'keycloak_wasm.js', 'keycloak_wasm_bg.wasm', 'README.md', 'LICENSE', 'package.json']) {
    assert.ok(files.includes(file), `${file} missing from the tarball: ${files.join(', ')}`)
  }
})

test('a plain module page loads it through an import map, and fetches the wasm only in init()', async () => {
  const app = await startAppServer({ pkgDir: unpacked })
  const page = await browser.newPage()
  const wasmRequests = []
  page.on('request', (request) => { if (request.url().endsWith('.wasm')) wasmRequests.push(request.url()) })
  try {
    await page.goto(app.appUrl('keycloak-wasm'))
    await page.waitForFunction(() => window.harnessReady === true)
    const constructed = await page.evaluate((config) => {
      window.kc = new window.Keycloak(config)
      return { authenticated: window.kc.authenticated, didInitialize: window.kc.didInitialize }
    }, CONFIG)
    assert.deepEqual(constructed, { authenticated: false, didInitialize: false })
    assert.deepEqual(wasmRequests, [], 'importing and constructing must not fetch the wasm')

    const result = await page.evaluate(async () => {
      const ready = []
      window.kc.onReady = (authenticated) => ready.push(authenticated)
      const authenticated = await window.kc.init({ checkLoginIframe: false })
      let second
      try { await window.kc.init() } catch (e) { second = e.message }
      return { authenticated, ready, authorize: window.kc.endpoints.authorize(), second }
    })
    assert.equal(result.authenticated, false)
    assert.deepEqual(result.ready, [false])
    assert.equal(result.authorize, EXPECTED_AUTHORIZE)
    assert.equal(result.second, "A 'Keycloak' instance can only be initialized once.")
    assert.equal(wasmRequests.length, 1)
  } finally {
    await page.close()
    await app.close()
  }
})

test('a Vite production build bundles it, wasm asset included', async () => {
  const dir = join(WORK, 'vite-app')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><body><script type="module" src="./main.js"></script></body></html>\n')
  writeFileSync(join(dir, 'main.js'), `
import Keycloak, { Keycloak as Named } from 'keycloak-wasm'
const kc = new Keycloak(${JSON.stringify(CONFIG)})
window.result = kc.init({ checkLoginIframe: false }).then(
  (authenticated) => ({ authenticated, authorize: kc.endpoints.authorize(), sameExport: Named === Keycloak }),
  (error) => ({ error: String(error) }))
`)
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', tarball], { cwd: dir, stdio: 'inherit' })
  // The test server serves dist/ under /static/, hence the base.
  execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn', '--base', '/static/'], { cwd: dir, stdio: 'inherit' })
  const assets = readdirSync(join(dir, 'dist', 'assets'))
  assert.ok(assets.some((file) => file.endsWith('.wasm')), `no wasm among the built assets: ${assets.join(', ')}`)

  const app = await startAppServer({ staticDir: join(dir, 'dist') })
  const page = await browser.newPage()
  try {
    await page.goto(`${app.origin}/static/index.html`)
    await page.waitForFunction(() => window.result !== undefined)
    const result = await page.evaluate(() => window.result)
    assert.deepEqual(result, { authenticated: false, authorize: EXPECTED_AUTHORIZE, sameExport: true })
  } finally {
    await page.close()
    await app.close()
  }
})

test('importing and constructing in Node (server-side rendering) touches no browser global', async () => {
  assert.equal(typeof globalThis.window, 'undefined')
  const { default: Keycloak, Keycloak: Named } = await import(pathToFileURL(join(unpacked, 'keycloak.js')).href)
  assert.equal(Named, Keycloak)
  const kc = new Keycloak(CONFIG)
  assert.equal(kc.authenticated, false)
  assert.equal(typeof kc.init, 'function')
  assert.throws(() => new Keycloak(42), /must be provided with a configuration object, or a URL to a JSON configuration file/)
  assert.throws(() => new Keycloak({ url: 'x', realm: 'y' }), { message: "The configuration object is missing the required 'clientId' property." })
  assert.doesNotThrow(() => new Keycloak({ clientId: 'spa', oidcProvider: 'https://issuer.example.com' }))
  assert.doesNotThrow(() => new Keycloak('/keycloak.json'))
})
