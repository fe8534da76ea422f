// Latency benchmark: how long keycloak-wasm and keycloak-js 26.2.4 take, in headless Chromium
// against devserver (app on localhost, server on 127.0.0.1), from the start of a page's
// navigation until init() settles, and for one forced token refresh. Each figure is the median
// (and the slowest) of RUNS fresh pages, after one warm-up. The app server sends `no-store`, so
// every page fetches and compiles the adapter afresh, as on a first visit. Writes
// bench/results/latency.json. Needs the package (npm run build) and devserver
// (cargo build -p devserver); RUNS=N sets the number of pages (default 15).
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  ROOT, startAppServer, startDevserver, demoRealm, launchProfile, armScenario, initOutcome
} from '../tests/e2e/harness.mjs'

const RUNS = Number(process.env.RUNS ?? 15)
const ADAPTERS = ['keycloak-js', 'keycloak-wasm']

const app = await startAppServer()
const server = await startDevserver({ realms: [await demoRealm(app.origin)] })
const config = { url: server.url, realm: 'demo', clientId: 'demo-app' }

/** Runs init() on a fresh page of `context`; returns the page once it settled as expected. */
async function initialised (context, adapter, initOptions, expected) {
  const page = await context.newPage()
  await armScenario(page, app, adapter, { config, initOptions })
  const outcome = await initOutcome(page)
  if (!outcome.ok || outcome.value !== expected) {
    throw new Error(`${adapter} init(${JSON.stringify(initOptions)}): ${JSON.stringify(outcome)}`)
  }
  return page
}

/** Logs alice in on a page of `context`, so that the profile holds an SSO session. */
async function signIn (context, adapter) {
  const page = await context.newPage()
  await armScenario(page, app, adapter, { config, initOptions: { onLoad: 'login-required' }, waitUntil: 'commit' })
  await page.waitForSelector('#username')
  await page.fill('#username', 'alice')
  await page.fill('#password', 'alice')
  await page.click('#kc-login')
  await page.waitForURL((url) => url.href.startsWith(app.origin))
  const outcome = await initOutcome(page)
  if (!outcome.ok || outcome.value !== true) throw new Error(`${adapter} login: ${JSON.stringify(outcome)}`)
  await page.close()
}

const scenarios = {
  'init() without onLoad': async (context, adapter) => {
    const page = await initialised(context, adapter, {}, false)
    const ms = await page.evaluate(() => window.initSettledAt)
    await page.close()
    return ms
  },
  'check-sso, silent iframe, SSO session': async (context, adapter) => {
    const silentCheckSsoRedirectUri = app.appUrl(adapter, '/silent-check-sso.html')
    const page = await initialised(context, adapter, { onLoad: 'check-sso', silentCheckSsoRedirectUri }, true)
    const ms = await page.evaluate(() => window.initSettledAt)
    await page.close()
    return ms
  },
  'updateToken(-1) after check-sso': async (context, adapter) => {
    const silentCheckSsoRedirectUri = app.appUrl(adapter, '/silent-check-sso.html')
    const page = await initialised(context, adapter, { onLoad: 'check-sso', silentCheckSsoRedirectUri, checkLoginIframe: false }, true)
    const ms = await page.evaluate(async () => {
      const start = performance.now()
      if (!(await window.kc.updateToken(-1))) throw new Error('no refresh')
      return performance.now() - start
    })
    await page.close()
    return ms
  }
}

const results = {}
try {
  for (const adapter of ADAPTERS) {
    // A regular profile that sends third-party cookies, as most browsers still do.
    const context = await launchProfile({ thirdPartyCookies: 'allowed' })
    try {
      await signIn(context, adapter)
      for (const [name, run] of Object.entries(scenarios)) {
        await run(context, adapter) // warm-up: caches, the wasm compile cache
        const samples = []
        for (let i = 0; i < RUNS; i++) samples.push(await run(context, adapter))
        samples.sort((a, b) => a - b)
        const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]
        ;(results[name] ??= {})[adapter] = { median: Math.round(at(0.5)), max: Math.round(at(1)), runs: RUNS }
      }
    } finally {
      await context.close()
    }
  }
} finally {
  await server.stop()
  await app.close()
}

console.log(`${'milliseconds (median / slowest)'.padEnd(40)} ${ADAPTERS.map((a) => a.padStart(16)).join('')}`)
for (const [name, byAdapter] of Object.entries(results)) {
  console.log(`${name.padEnd(40)} ${ADAPTERS.map((a) => `${byAdapter[a].median} / ${byAdapter[a].max}`.padStart(16)).join('')}`)
}
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
writeFileSync(join(ROOT, 'bench', 'results', 'latency.json'), JSON.stringify({ runs: RUNS, results }, null, 2) + '\n')
console.log('wrote bench/results/latency.json')
