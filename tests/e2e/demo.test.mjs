// The demo app that `npm start` serves (www/ and pkg/ through devserver, realm demo): check-sso on
// load, login as bob (an admin), his user and roles, the token countdown and refresh, and the
// live feed of events over the authenticated socket, where alice's login shows up.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ROOT, startDevserver, launchBrowser, demoRealm, collectPageErrors } from './harness.mjs'
import { passTime } from './adapter/setup.mjs'

let server
let browser

/** A free loopback port, so the realm can name the demo's exact origin in its redirect URIs. */
const freePort = () => new Promise((resolve, reject) => {
  const probe = createServer().once('error', reject)
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address()
    probe.close(() => resolve(port))
  })
})

before(async () => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const pkg = process.env.E2E_PKG_DIR ?? join(ROOT, 'pkg')
  server = await startDevserver({
    realms: [await demoRealm(origin)],
    args: ['--www', join(ROOT, 'www'), '--pkg', pkg, '--port', String(port)]
  })
  assert.equal(server.url, origin)
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

/**
 * A fresh browser context on the demo, its clock installed so the test can let time pass; page
 * errors are collected.
 */
async function openDemo () {
  const context = await browser.newContext()
  await context.clock.install()
  const page = collectPageErrors(await context.newPage())
  await page.goto(`${server.url}/`)
  await page.waitForSelector('#status[data-state="anonymous"], #status[data-state="ready"], #status[data-state="error"]')
  return page
}

async function logIn (page, username) {
  await page.click('#login-hero')
  await page.waitForSelector('#username')
  await page.fill('#username', username)
  await page.fill('#password', username)
  await page.click('#kc-login')
  await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]')
}

// Less than twice the socket's heartbeat (30 s), so the jump does not end the feed's connection.
const ELAPSED = 50

/** The countdown's seconds left (it shows `m:ss`). */
async function secondsLeft (page) {
  const text = await page.textContent('#expires-in')
  const match = /^(\d+):(\d\d)$/.exec(text)
  assert.ok(match, `countdown '${text}'`)
  return Number(match[1]) * 60 + Number(match[2])
}

const feedEntries = (page) => page.$$eval('#feed .event', (items) => items.map((li) => ({
  type: li.querySelector('.badge').textContent,
  who: li.querySelector('.who').textContent
})))

test('the demo: check-sso, bob logs in, sees himself and his roles, and events arrive live', async () => {
  const bob = await openDemo()
  // check-sso found no session: the login button and the realm's facts are shown.
  assert.equal(await bob.textContent('#status'), 'not signed in')
  assert.ok(await bob.isVisible('#welcome'))
  assert.match(await bob.textContent('#facts'), /\/realms\/demo\/protocol\/openid-connect\/auth/)

  await logIn(bob, 'bob')
  assert.equal(await bob.textContent('#status'), 'bob')
  assert.equal(await bob.textContent('#user-name'), 'Bob Builder')
  assert.equal(await bob.textContent('#user-email'), 'bob@example.com')
  const roles = await bob.$$eval('#roles li', (items) => items.map((li) => li.textContent))
  assert.deepEqual(roles.filter((r) => r === 'admin' || r === 'user'), ['admin', 'user'])
  assert.match(await bob.textContent('#expires-in'), /^\d+:\d\d$/)

  // The feed's socket is open and the hub knows bob is an admin.
  await bob.waitForSelector('#socket-state[data-state="open"]')
  await bob.waitForFunction(() => document.getElementById('feed-scope').textContent.includes('admin'))

  // alice logs in elsewhere: bob, an admin, sees her LOGIN.
  const alice = await openDemo()
  await logIn(alice, 'alice')
  assert.equal(await alice.textContent('#user-name'), 'Alice Liddell')
  await bob.waitForFunction(() => [...document.querySelectorAll('#feed .event')]
    .some((li) => li.querySelector('.badge').textContent === 'LOGIN' && li.querySelector('.who').textContent.startsWith('alice')))
  // alice is not an admin: her feed says so, and never shows bob.
  await alice.waitForFunction(() => document.getElementById('feed-scope').textContent.includes('your own events'))

  // Time passes: the countdown goes down by as much.
  const expiresBefore = await bob.textContent('#token-expires')
  const leftBefore = await secondsLeft(bob)
  await passTime({ server }, bob, ELAPSED)
  await bob.waitForFunction((limit) => {
    const [minutes, seconds] = document.getElementById('expires-in').textContent.split(':').map(Number)
    return minutes * 60 + seconds <= limit
  }, leftBefore - ELAPSED + 1, { timeout: 5000 }).catch(() => { throw new Error(`the countdown did not go down by ${ELAPSED} s`) })
  const leftAfterWait = await secondsLeft(bob)
  assert.ok(leftAfterWait >= leftBefore - ELAPSED - 5, `countdown ${leftBefore} s, ${ELAPSED} s later ${leftAfterWait} s`)

  // bob refreshes his token: the counter moves back up, to the new token's expiry, and his own
  // REFRESH_TOKEN event arrives.
  await bob.click('#refresh')
  await bob.waitForFunction(() => document.getElementById('token-refreshes').textContent === '1')
  await bob.waitForFunction(() => [...document.querySelectorAll('#feed .event')]
    .some((li) => li.querySelector('.badge').textContent === 'REFRESH_TOKEN' && li.querySelector('.who').textContent === 'bob you'))
  assert.notEqual(await bob.textContent('#token-expires'), expiresBefore, 'the new token expires later')
  assert.ok(await secondsLeft(bob) > leftAfterWait + ELAPSED / 2, 'the countdown restarted with the new token')
  assert.ok(!(await feedEntries(alice)).some((e) => e.who.startsWith('bob')))
  assert.equal(await bob.getAttribute('#socket-state', 'data-state'), 'open', 'the feed stayed connected through the refresh')

  // Logout: back to the signed-out page.
  await bob.click('#logout')
  await bob.waitForSelector('#status[data-state="anonymous"]')
  assert.ok(await bob.isVisible('#login-hero'))
  assert.deepEqual(bob.errors, [])
  assert.deepEqual(alice.errors, [])
})
