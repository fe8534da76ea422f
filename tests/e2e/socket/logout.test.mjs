// Logging out ends the socket for good with 4001: clearToken(), logout(), and a session ended
// elsewhere (the refresh token is refused, which clears the tokens). Nothing reconnects after.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  useWorld, newPage, signedIn, hubUrl, recordWebSockets, openSocket, waitForLog, socketLog,
  hubConnections, admin
} from './setup.mjs'

const world = useWorld()

const MAX_DELAY = 300

/** Opens a socket with short backoff and waits until the hub has it. */
async function openAndWelcome (page) {
  await openSocket(page, hubUrl(world), { minDelay: 100, maxDelay: MAX_DELAY })
  return JSON.parse((await waitForLog(page, '(e, m) => m?.type === "welcome"')).data)
}

/** Waits until the hub no longer lists a connection of `sub`, for at most 5 s. */
async function hubForgets (sub) {
  const deadline = Date.now() + 5000
  while ((await hubConnections(world)).some((c) => c.sub === sub)) {
    if (Date.now() > deadline) throw new Error(`the hub still lists a connection of ${sub} 5 s after it closed`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * After the final close nothing reconnects: the events that wake a waiting socket (online,
 * visibilitychange) do nothing, and the page's clock (installed by the test) runs through
 * several backoff periods, firing every timer due in them, without a connection being opened.
 */
async function assertStaysClosed (page, recorder) {
  const connections = recorder.all().length
  const before = (await socketLog(page)).length
  await page.evaluate(() => {
    window.dispatchEvent(new Event('online'))
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
  })
  await page.clock.runFor(4 * MAX_DELAY)
  assert.equal((await socketLog(page)).length, before, 'no event after the final close')
  assert.equal(recorder.all().length, connections, 'no new connection')
  assert.deepEqual(await page.evaluate(() => {
    window.socket.send('after close')
    return [window.socket.readyState, window.socket.state]
  }), [3, 'closed'])
}

test('clearToken() closes the socket with 4001 and it stays closed', async () => {
  const page = await newPage(world)
  await page.clock.install()
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  const welcome = await openAndWelcome(page)
  await page.evaluate(() => window.kc.clearToken())
  const close = await waitForLog(page, '(e) => e.type === "close"')
  assert.deepEqual([close.code, close.reason, close.readyState], [4001, 'logged out', 3])
  // onAuthLogout fired too, after the socket was closed.
  assert.ok(await page.evaluate(() => window.events.some((e) => e.name === 'onAuthLogout')))
  await hubForgets(welcome.sub)
  await assertStaysClosed(page, recorder)
  await page.context().close()
})

test('logout() closes the socket with 4001 before the page leaves', async () => {
  const page = await newPage(world)
  await signedIn(world, page)
  const welcome = await openAndWelcome(page)
  const left = page.waitForRequest((r) => r.url().includes('/protocol/openid-connect/logout'))
  await page.evaluate(() => {
    // What the socket had fired when the page went away to the end-session endpoint.
    window.addEventListener('pagehide', () => {
      const closes = window.socketLog.filter((e) => e.type === 'close').map((e) => [e.code, e.reason])
      sessionStorage.setItem('closes-at-pagehide', JSON.stringify(closes))
    })
    window.kc.logout()
  })
  await left
  await page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() && frame.url().startsWith(world.app.origin) })
  await page.waitForFunction(() => window.harnessReady === true)
  assert.deepEqual(await page.evaluate(() => JSON.parse(sessionStorage.getItem('closes-at-pagehide'))), [[4001, 'logged out']])
  await hubForgets(welcome.sub)
  await page.context().close()
})

test('a session ended elsewhere: the refused refresh clears the tokens and closes the socket', async () => {
  const page = await newPage(world)
  await page.clock.install()
  const recorder = await recordWebSockets(page)
  await signedIn(world, page)
  const welcome = await openAndWelcome(page)
  await admin(world, 'DELETE', '/admin/devserver/realms/demo/users/alice/sessions')
  const refresh = await page.evaluate(() => window.kc.updateToken(-1).then(() => 'refreshed', (e) => e.status))
  assert.equal(refresh, 400)
  const close = await waitForLog(page, '(e) => e.type === "close"')
  assert.deepEqual([close.code, close.reason], [4001, 'logged out'])
  await hubForgets(welcome.sub)
  await assertStaysClosed(page, recorder)
  await page.context().close()
})
