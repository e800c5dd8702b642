#!/usr/bin/python3
"""The sign-in journey in headless Chromium, driven by selenium (t/532).

    mobispot_browser.py --probe          starts Chromium, loads a page, quits
    mobispot_browser.py CONFIG.json      the journey

CONFIG.json: {"iss", "sites": {"namur", "liege"}, "names": [host names],
"ca", "cert", "user", "password", "wait": seconds, "refuse_wait": seconds}.

Each step prints "ok - NAME" or "not ok - NAME", details as "# ..." lines;
t/532 turns them into its assertions.  The probe prints "probe ok" or
"probe failed: REASON".  Every host name of the journey resolves to
127.0.0.1 and every other one to nothing (localhost excepted), and
Chromium's background services are off: the few requests it still starts
by itself (extension updates, its search engine's new tab page, Google's
account list) fail at name resolution, and it connects to nothing but
127.0.0.1 (a run's --log-net-log showed it; only a UDP connect(), which
sends nothing, to 2001:4860:4860::8888, Chromium's IPv6 probe).  The
test CA is trusted through an NSS database in a temporary HOME (certutil),
or, without certutil, by the server key's SPKI hash alone.  Chromium and
chromedriver are stopped by their pids at the end, whatever happened.
"""

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
STATE_COOKIE = '__Host-mobispot_state_'
SESSION_COOKIE = '__Host-mobispot_session'

# what Chromium would otherwise fetch from the Internet on its own
QUIET = [
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-default-apps', '--disable-extensions',
    '--disable-domain-reliability', '--disable-breakpad',
    '--disable-client-side-phishing-detection', '--no-pings',
    '--disable-crash-reporter', '--metrics-recording-only',
    '--no-first-run', '--no-default-browser-check', '--no-proxy-server',
    '--safebrowsing-disable-auto-update', '--password-store=basic',
    '--disable-features=Translate,OptimizationHints,MediaRouter,'
    'DialMediaRouteProvider,AutofillServerCommunication,DnsOverHttps,'
    'CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying,'
    'InterestFeedContentSuggestions,PrivacySandboxSettings4',
]


def say(line):
    print(line, flush=True)


def check(ok, name, *details):
    say(('ok - ' if ok else 'not ok - ') + name)
    if not ok:
        for d in details:
            for line in str(d).splitlines():
                say('# ' + line)
    return ok


def spki_hash(cert):
    der = subprocess.run(
        ['openssl', 'x509', '-in', cert, '-noout', '-pubkey'],
        check=True, capture_output=True).stdout
    der = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'DER'],
                         input=der, check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def descendants(pid):
    """the pids below pid, from /proc"""
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


class Browser:
    """one Chromium with its own profile and HOME, under chromedriver"""

    def __init__(self, cfg, script=True):
        self.tmp = tempfile.mkdtemp(prefix='mobispot-chromium-')
        self.driver = None
        self.pids = []
        home = os.path.join(self.tmp, 'home')
        os.makedirs(home)
        env = dict(os.environ, HOME=home)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ['--headless=new', '--no-sandbox', '--disable-gpu',
                  '--disable-dev-shm-usage', '--window-size=1024,768',
                  '--user-data-dir=' + os.path.join(self.tmp, 'profile')]:
            opts.add_argument(a)
        for a in QUIET:
            opts.add_argument(a)
        rules = ['MAP %s 127.0.0.1' % n for n in cfg.get('names', [])]
        rules += ['MAP * ~NOTFOUND', 'EXCLUDE localhost']
        opts.add_argument('--host-resolver-rules=' + ', '.join(rules))
        self.trust = 'none'
        if cfg.get('ca'):
            self.trust = self._trust(cfg, home, opts)
        # no preconnects or prefetches (only the sockets the journey uses),
        # no password manager (its leak check), no Google sign-in, no
        # search engine (its new tab page)
        prefs = {'net.network_prediction_options': 2,
                 'credentials_enable_service': False,
                 'profile.password_manager_enabled': False,
                 'profile.password_manager_leak_detection': False,
                 'signin.allowed': False,
                 'default_search_provider.enabled': False}
        if not script:
            prefs['profile.managed_default_content_settings.javascript'] = 2
        opts.add_experimental_option('prefs', prefs)
        opts.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
        self.service = Service(CHROMEDRIVER, env=env, log_path=os.path.join(
            self.tmp, 'chromedriver.log'))
        try:
            self.driver = webdriver.Chrome(service=self.service, options=opts)
        finally:
            self._note_pids()
        self.driver.set_page_load_timeout(cfg.get('wait', 10) * 3)

    def _trust(self, cfg, home, opts):
        if shutil.which('certutil'):
            db = os.path.join(home, '.pki', 'nssdb')
            os.makedirs(db)
            subprocess.run(['certutil', '-N', '-d', 'sql:' + db,
                            '--empty-password'], check=True,
                           capture_output=True)
            subprocess.run(['certutil', '-A', '-d', 'sql:' + db, '-n',
                            'Mobispot test CA', '-t', 'C,,', '-i',
                            cfg['ca']], check=True, capture_output=True)
            return 'the test CA in an NSS database'
        opts.add_argument('--ignore-certificate-errors-spki-list='
                          + spki_hash(cfg['cert']))
        return "the server key's SPKI hash"

    def _note_pids(self):
        p = getattr(self.service, 'process', None)
        if p is not None:
            self.pids = [p.pid] + descendants(p.pid)

    def quit(self):
        self._note_pids()
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = [p for p in self.pids if os.path.exists('/proc/%d' % p)]
            for p in left:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
            for _ in range(20):
                if not any(os.path.exists('/proc/%d' % p) for p in left):
                    break
                time.sleep(0.1)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def hops(self):
        """the documents loaded since the last call: [{method, url,
        status, sent: {cookie: [blocked reasons]}, set_blocked: [..]}]"""
        chains, extra, setx, order = {}, {}, {}, []
        for e in self.driver.get_log('performance'):
            m = json.loads(e['message'])['message']
            p = m.get('params', {})
            rid = p.get('requestId')
            if m['method'] == 'Network.requestWillBeSent':
                if p.get('type') != 'Document' or not \
                        p['request']['url'].startswith('http'):
                    continue
                c = chains.setdefault(rid, [])
                if rid not in order:
                    order.append(rid)
                if c and 'redirectResponse' in p:
                    c[-1]['status'] = p['redirectResponse']['status']
                c.append({'method': p['request']['method'],
                          'url': p['request']['url'], 'status': None,
                          'sent': {}, 'set_blocked': []})
            elif m['method'] == 'Network.responseReceived':
                if rid in chains:
                    chains[rid][-1]['status'] = p['response']['status']
            elif m['method'] == 'Network.requestWillBeSentExtraInfo':
                extra.setdefault(rid, []).append({
                    a['cookie']['name']: a.get('blockedReasons', [])
                    for a in p.get('associatedCookies', [])})
            elif m['method'] == 'Network.responseReceivedExtraInfo':
                setx.setdefault(rid, []).append([
                    '%s: %s' % (b.get('cookieLine', '?').split('=')[0],
                                ','.join(b.get('blockedReasons', [])))
                    for b in p.get('blockedCookies', [])])
        out = []
        for rid in order:
            c = chains[rid]
            for i, h in enumerate(c):
                if i < len(extra.get(rid, [])):
                    h['sent'] = extra[rid][i]
                if i < len(setx.get(rid, [])):
                    h['set_blocked'] = setx[rid][i]
            out += c
        return out


def show(hops):
    lines = []
    for h in hops:
        sent = ', '.join(n + ('' if not r else ' (BLOCKED: %s)' % ','.join(r))
                         for n, r in sorted(h['sent'].items()))
        lines.append('%s %s -> %s; cookies sent: %s%s' % (
            h['method'], h['url'], h['status'], sent or 'none',
            '; Set-Cookie blocked: ' + '; '.join(h['set_blocked'])
            if h['set_blocked'] else ''))
    return '\n'.join(lines)


def sent(hop, prefix):
    """a cookie named prefix... sent, unblocked, with this hop"""
    return any(n.startswith(prefix) and not r for n, r in hop['sent'].items())


def probe():
    b = None
    try:
        b = Browser({})
        b.driver.get('data:text/html,<p id="p">probe</p>')
        text = b.driver.find_element(By.ID, 'p').text
        say('probe ok' if text == 'probe' else 'probe failed: page not read')
    except Exception as e:
        say('probe failed: %s'
            % (str(e).strip().splitlines() or ['no reason given'])[0])
    finally:
        if b is not None:
            b.quit()


class Journey:
    def __init__(self, cfg):
        self.cfg = cfg
        self.iss = cfg['iss']
        self.sites = cfg['sites']
        self.wait_s = cfg.get('wait', 10)

    def wait(self, b, cond, what):
        try:
            WebDriverWait(b.driver, self.wait_s, 0.05).until(
                lambda d: cond(d))
            return True
        except Exception:
            say('# waited %ss for %s; at %s' % (self.wait_s, what,
                                               b.driver.current_url))
            return False

    def at(self, url, text=None):
        def cond(d):
            if not d.current_url.startswith(url):
                return False
            return text is None or text in d.find_element(
                By.TAG_NAME, 'body').text
        return cond

    def by_label(self, b, label):
        el = b.driver.find_element(
            By.XPATH, '//label[normalize-space()="%s"]' % label)
        return b.driver.find_element(By.ID, el.get_attribute('for'))

    def sign_in_form(self, b, name, url):
        b.driver.get(url)
        ok = self.wait(b, self.at(self.iss + '/login'), 'the sign-in form')
        ok = ok and bool(b.driver.find_elements(By.ID, 'password'))
        return check(ok, name, show(b.hops()), b.driver.current_url)

    def fill(self, b, enter):
        self.by_label(b, 'Email or account id').send_keys(self.cfg['user'])
        pw = self.by_label(b, 'Password')
        pw.send_keys(self.cfg['password'])
        if enter:
            pw.send_keys(Keys.ENTER)
        else:
            b.driver.find_element(
                By.XPATH, '//button[normalize-space()="Sign in"]').click()

    def with_script(self):
        namur, liege = self.sites['namur'], self.sites['liege']
        b = Browser(self.cfg)
        try:
            say('# Chromium trusts ' + b.trust)
            if not self.sign_in_form(b, "namur's page sends the browser to "
                                     "the issuer's sign-in form",
                                     namur + '/desk'):
                return
            b.hops()
            self.fill(b, enter=True)
            ok = self.wait(b, self.at(namur + '/desk', 'sub=ada'),
                           "namur's page")
            hops = b.hops()
            check(any(h['url'].startswith(self.iss + '/authorize')
                      for h in hops),
                  'the sign-in, sent with Enter, goes on to authorize',
                  show(hops))
            cb = [h for h in hops if h['method'] == 'POST'
                  and h['url'] == namur + '/sso/callback']
            check(cb and cb[0]['status'] == 303,
                  "the form_post reaches namur's callback (a cross-site "
                  "POST): 303", show(hops))
            check(cb and sent(cb[0], STATE_COOKIE),
                  "Chromium sends the site's state cookie with the "
                  "cross-site POST", show(hops))
            check(ok, "back at namur's page, showing sub=ada", show(hops))
            if self.cfg.get('hup'):
                say('hup')
                sys.stdin.readline()

            b.driver.get(liege + '/desk')
            ok = self.wait(b, self.at(liege + '/desk', 'sub=ada'),
                           "liege's page")
            hops = b.hops()
            az = [h for h in hops
                  if h['url'].startswith(self.iss + '/authorize')]
            check(ok and az and not any(
                h['url'].startswith(self.iss + '/login') for h in hops),
                "liege's page is served without the sign-in form (silent)",
                show(hops))
            check(az and sent(az[0], SESSION_COOKIE),
                  "Chromium sends the issuer's session cookie to authorize "
                  "from another site", show(hops))

            self.sign_out(b, namur)
            for site in ('namur', 'liege'):
                self.refused(b, site)
        finally:
            b.quit()

    def app_signed_out(self):
        # an app's code flow, signed out: the sign-in's form answer goes
        # on (login's 303, authorize's redirect) to the app's redirect URI
        # on another origin, which Chromium holds to the sign-in page's
        # form-action
        b = Browser(self.cfg)
        try:
            if not self.sign_in_form(b, "an app's authorize, signed out: "
                                     "the sign-in form",
                                     self.cfg['app_authorize']):
                return
            b.hops()
            self.fill(b, enter=True)
            target = self.cfg['app_redirect'] + '?code='
            hops = []

            def reached(d):
                hops.extend(b.hops())
                return any(h['url'].startswith(target) for h in hops)

            ok = self.wait(b, reached, "the app's redirect URI")
            check(ok, "signed in, the browser goes on to the app's "
                  "redirect URI with its code (form-action lets it)",
                  show(hops))
        finally:
            b.quit()

    def sign_out(self, b, namur):
        b.driver.get(self.iss + '/logout?client_id=namur-gw'
                     '&post_logout_redirect_uri=' + namur + '/')
        btn = []
        if self.wait(b, lambda d: d.find_elements(
                By.XPATH, '//button[normalize-space()="Sign out"]'),
                'the sign-out confirmation'):
            btn = b.driver.find_elements(
                By.XPATH, '//button[normalize-space()="Sign out"]')
        if not check(bool(btn), "the issuer's sign-out asks for a "
                     "confirmation", show(b.hops())):
            return
        b.hops()
        btn[0].click()
        ok = self.wait(b, lambda d: not d.current_url.startswith(
            self.iss + '/logout'), 'the page after the sign-out')
        hops = b.hops()
        posted = [h for h in hops if h['method'] == 'POST'
                  and h['url'].startswith(self.iss + '/logout')]
        check(ok and posted and posted[0]['status'] == 303
              and any(h['url'] == namur + '/' for h in hops),
              'signed out: the browser goes on to the site\'s registered '
              'post-logout URI', show(hops), b.driver.current_url)

    def refused(self, b, site):
        url = self.sites[site] + '/desk'
        t0 = time.time()
        while True:
            b.driver.get(url)
            body = b.driver.find_element(By.TAG_NAME, 'body').text
            if 'sub=ada' not in body:
                break
            if time.time() - t0 > self.cfg.get('refuse_wait', 3):
                break
            time.sleep(0.05)
        hops = b.hops()
        last = hops[-1] if hops else {'status': None}
        on_form = b.driver.current_url.startswith(self.iss + '/login') \
            and bool(b.driver.find_elements(By.ID, 'password'))
        check('sub=ada' not in body and (on_form or last['status'] == 401),
              "%s's page now refuses: the sign-in form or a 401" % site,
              show(hops), body[:200])
        say('# %s refused after %.2f s' % (site, time.time() - t0))

    def without_script(self):
        liege = self.sites['liege']
        b = Browser(self.cfg, script=False)
        try:
            if not self.sign_in_form(b, 'without script: the sign-in form',
                                     liege + '/desk'):
                return
            b.hops()
            self.fill(b, enter=False)
            cont = '//button[normalize-space()="Continue"]'
            ok = self.wait(b, lambda d: d.find_elements(By.XPATH, cont),
                           'the Continue button')
            check(ok and b.driver.current_url.startswith(
                self.iss + '/authorize'),
                'without script: the form_post page shows its Continue '
                'button', show(b.hops()), b.driver.current_url)
            if not ok:
                return
            b.driver.find_element(By.XPATH, cont).click()
            ok = self.wait(b, self.at(liege + '/desk', 'sub=ada'),
                           "liege's page")
            check(ok, "without script: Continue reaches liege's page, "
                  "sub=ada", show(b.hops()))
        finally:
            b.quit()


def main():
    if sys.argv[1:] == ['--probe']:
        probe()
        return
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    j = Journey(cfg)
    j.with_script()
    j.app_signed_out()
    j.without_script()
    say('done')


if __name__ == '__main__':
    main()
