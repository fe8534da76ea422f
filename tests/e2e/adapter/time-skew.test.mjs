// An application may adjust `timeSkew` after init() (to correct a clock it knows is off, or to
// simulate one that runs ahead); keycloak-js reads the property whenever it needs it, so the next
// isTokenExpired() and updateToken() answer with the new value. Run against both adapters.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { scenarioAdapters, useWorld, newPage, loginRequired, call, waitForEvent } from '../scenarios/setup.mjs'
import { countRefreshes } from './setup.mjs'

const world = useWorld()

/** The access token's lifetime in seconds. */
const lifespan = (page) => page.evaluate(() => window.kc.tokenParsed.exp - window.kc.tokenParsed.iat)
const isTokenExpired = (page, minValidity) => page.evaluate((m) => window.kc.isTokenExpired(m), minValidity)

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('a timeSkew assigned after init() changes isTokenExpired() and updateToken() at once', async () => {
      const page = await newPage(world)
      assert.deepEqual(await loginRequired(world, page, adapter), { ok: true, value: true })
      const refreshes = await countRefreshes(page)
      const seconds = await lifespan(page)
      assert.equal(typeof await page.evaluate(() => window.kc.timeSkew), 'number')
      assert.equal(await isTokenExpired(page), false)
      assert.deepEqual(await call(page, 'updateToken', 30), { ok: true, value: false })
      assert.equal(refreshes.length, 0)

      // A clock that runs a token's lifetime ahead: the token is as good as expired.
      await page.evaluate((s) => { window.kc.timeSkew -= s }, seconds)
      assert.equal(await isTokenExpired(page), true)
      assert.deepEqual(await call(page, 'updateToken', 30), { ok: true, value: true })
      assert.equal(refreshes.length, 1)

      // The refresh measured the skew again; a skew the other way makes the token last longer.
      assert.equal(await isTokenExpired(page, seconds + 100), true)
      await page.evaluate(() => { window.kc.timeSkew += 1000 })
      assert.equal(await isTokenExpired(page, seconds + 100), false)
      assert.deepEqual(await call(page, 'updateToken', seconds + 100), { ok: true, value: false })
      assert.equal(refreshes.length, 1)
      await page.context().close()
    })

    test('a timeSkew assigned before init() stays unless init() is given one', async () => {
      const page = await newPage(world)
      await page.goto(world.app.appUrl(adapter, '/blank'))
      await page.waitForFunction(() => window.harnessReady === true)
      const skews = await page.evaluate(async (config) => {
        const kept = new window.Keycloak(config)
        kept.timeSkew = -5
        await kept.init({ checkLoginIframe: false })
        const given = new window.Keycloak(config)
        given.timeSkew = -5
        await given.init({ checkLoginIframe: false, timeSkew: 3 })
        return [kept.timeSkew, given.timeSkew, new window.Keycloak(config).timeSkew]
      }, world.config)
      assert.deepEqual(skews, [-5, 3, null])
      await page.context().close()
    })

    if (adapter === 'keycloak-wasm') {
      test('the onTokenExpired timer follows a timeSkew assigned after init()', async () => {
        const page = await newPage(world)
        assert.deepEqual(await loginRequired(world, page, adapter), { ok: true, value: true })
        const seconds = await lifespan(page)
        assert.equal(await page.evaluate(() => window.events.some((e) => e.name === 'onTokenExpired')), false)
        await page.evaluate((s) => { window.kc.timeSkew -= s + 10 }, seconds)
        // Without the new skew the timer would fire only after the token's whole lifetime.
        await waitForEvent(page, 'onTokenExpired', 10000)
        await page.context().close()
      })
    }
  })
}
