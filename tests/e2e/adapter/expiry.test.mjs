// onTokenExpired fires at the token's expiry whatever function the application assigned by
// then, also one assigned after init() (keycloak-js arms it only if assigned before).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn, passTime } from './setup.mjs'

// Tokens of 5 minutes: nothing expires by the wall clock while the test runs; the test lets
// the time pass on devserver's and the page's clocks instead.
const LIFESPAN = 300
const world = useWorld({ realm: (realm) => { realm.accessTokenLifespan = LIFESPAN } })

/** Assigns onTokenExpired now; when it fires, `window.expired` holds `report(kc)`'s value. */
const armExpiry = (page, report) => page.evaluate((source) => {
  // eslint-disable-next-line no-eval
  const reportNow = (0, eval)(source)
  window.expired = undefined
  window.kc.onTokenExpired = () => { window.expired = reportNow(window.kc) }
}, report)

/** What the onTokenExpired assigned by `armExpiry` reported; fails if it has not fired within 5 s. */
async function expiryReport (page) {
  await page.waitForFunction(() => window.expired !== undefined, null, { timeout: 5000 })
    .catch(() => { throw new Error('onTokenExpired did not fire once the token had expired') })
  return page.evaluate(() => window.expired)
}

test('onTokenExpired assigned after init() fires when the token expires', async () => {
  const page = await newPage(world)
  await page.clock.install()
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  // Drop the harness's callback, then assign a new one now that init() is done.
  await page.evaluate(() => { window.kc.onTokenExpired = undefined })
  await armExpiry(page, '(kc) => ({ expired: kc.isTokenExpired(1), authenticated: kc.authenticated })')
  await passTime(world, page, LIFESPAN + 1)
  assert.deepEqual(await expiryReport(page), { expired: true, authenticated: true })
  // A refresh re-arms the timer for the new token.
  await page.evaluate(() => window.kc.updateToken(-1))
  await armExpiry(page, '(kc) => kc.isTokenExpired(1)')
  await passTime(world, page, LIFESPAN + 1)
  assert.equal(await expiryReport(page), true)
  await page.context().close()
})
