#!/usr/bin/env python3
"""Browser tests of the web console (管理控制台), issue 15.

Starts `shuan init` + `shuan serve` on a temporary data directory and drives Debian's
Chromium (/usr/bin/chromium, never a downloaded browser) with Playwright for Python at
1366×768: the first sign-in of each administrator (one-time password → new password →
TOTP enrolment, the code computed here from the seed the page shows, the QR code read back
with zxing-cpp), each implemented role's main workflow, a denied page for a wrong role,
CSRF and cross-origin POSTs refused, labels on inputs and keyboard use of the sign-in form,
forced sign-out back to the sign-in page, and no horizontal scrolling at 1366×768.
Screenshots go to the directory given by --shots (default: a temporary one).

Usage: scripts/console_test.py [--shots DIR] [PATH-TO-shuan]
Prints 'N passed, N failed' and exits non-zero on any failure.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

from playwright.sync_api import sync_playwright, expect

PASSWORD = "Zhengwu#Data2026"
WIDTH, HEIGHT = 1366, 768
# A tablet held upright (iPad-sized).
TABLET = {"width": 768, "height": 1024}
# The idle timeout of the second server, on which a session is watched ending.
IDLE_SECS = 8


def totp(seed_b32: str, at: float, step: int = 30) -> str:
    """RFC 6238 (HMAC-SHA1, 6 digits), as authenticator apps compute it."""
    seed = seed_b32.replace(" ", "").upper()
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    counter = struct.pack(">Q", int(at) // step)
    mac = hmac.new(key, counter, hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        try:
            fn()
            self.passed += 1
            print(f"ok   {name}", flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported, the run goes on
            self.failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server:
    def __init__(self, binary, work, *serve_args):
        self.work = work
        os.makedirs(work, exist_ok=True)
        data = os.path.join(work, "data")
        accounts = os.path.join(work, "accounts.json")
        subprocess.run([binary, "--data-dir", data, "init", "--format", "json", "--out", accounts],
                       check=True, stdout=subprocess.DEVNULL)
        with open(accounts, encoding="utf-8") as f:
            report = json.load(f)
        self.otps = {a["username"]: a["one_time_password"] for a in report["accounts"]}
        self.seeds = {}
        # Whether the sharing flow ran (it needs a PostgreSQL source).
        self.shared = False
        # A file for the data steward's scan (relative job paths start at files/).
        os.makedirs(os.path.join(data, "files"), exist_ok=True)
        shutil.copy(os.path.join(REPO, "testdata", "mask", "people.csv"), os.path.join(data, "files", "people.csv"))
        self.log = open(os.path.join(work, "serve.log"), "w+", encoding="utf-8")
        self.proc = subprocess.Popen([binary, "--data-dir", data, "serve", "--listen", "127.0.0.1:0", *serve_args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        self.base = None
        while time.time() < deadline and self.base is None:
            time.sleep(0.1)
            self.log.seek(0)
            m = re.search(r"http://[0-9.:]+", self.log.read())
            if m:
                self.base = m.group(0)
        if self.base is None:
            self.stop()
            raise RuntimeError("shuan serve did not start")

    def api(self, method, path, token=None, body=None):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req) as r:
                text = r.read().decode()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode() or "null")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# The last TOTP step whose code each seed spent (the server refuses a code of a step at or
# before the last one it accepted).
SPENT_STEP = {}


def unspent_totp(seed):
    """A code of the current step, after waiting into the next step when this seed's code
    of the current step was spent already."""
    if SPENT_STEP.get(seed, -1) >= int(time.time() // 30):
        wait_for_fresh_step()
    SPENT_STEP[seed] = int(time.time() // 30)
    return totp(seed, time.time())


def wait_for_fresh_step():
    """A TOTP code is accepted once: wait for the next 30-second step when the current
    one's code was used (e.g. to enrol and then sign in)."""
    time.sleep(30 - time.time() % 30 + 0.5)


class Console:
    """One person's browser context."""

    def __init__(self, browser, server, shots, name, viewport=None):
        self.ctx = browser.new_context(viewport=viewport or {"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.server = server
        self.shots = shots
        self.name = name
        self.seed = None
        self.page.on("dialog", lambda d: d.accept())
        self.console_errors = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))

    def go(self, path):
        return self.page.goto(self.server.base + path)

    def shot(self, name):
        self.page.screenshot(path=os.path.join(self.shots, f"{name}.png"))

    def sign_in(self, username, password, code=None):
        self.go("/login")
        self.page.get_by_label("账号", exact=True).fill(username)
        self.page.get_by_label("密码", exact=True).fill(password)
        if code:
            self.page.get_by_label("动态口令").fill(code)
        self.page.get_by_role("button", name="登 录").click()

    def first_sign_in(self, username, otp, enrol=True, shots=False):
        self.sign_in(username, otp)
        expect(self.page).to_have_url(re.compile(r"/account/password$"))
        if shots:
            self.shot("02-first-password")
        self.page.get_by_label("当前密码").fill(otp)
        self.page.get_by_label("新密码", exact=True).fill(PASSWORD)
        self.page.get_by_label("确认新密码").fill(PASSWORD)
        self.page.get_by_role("button", name="保存新密码").click()
        if not enrol:
            return
        expect(self.page).to_have_url(re.compile(r"/account/totp$"))
        self.page.get_by_role("button", name="生成绑定二维码").click()
        secret = self.page.locator("#totp-secret").inner_text()
        self.seed = secret.replace(" ", "")
        if shots:
            self.shot("03-totp-enrolment")
        # The QR code drawn by the server encodes this seed.
        qr_png = os.path.join(self.shots, f"qr-{username}.png")
        self.page.locator("#totp-qr").screenshot(path=qr_png)
        import zxingcpp
        from PIL import Image
        decoded = zxingcpp.read_barcodes(Image.open(qr_png))
        assert decoded, "the QR code could not be read"
        uri = decoded[0].text
        assert uri.startswith("otpauth://totp/"), uri
        assert f"secret={self.seed}" in uri, (uri, self.seed)
        os.remove(qr_png)
        # The previous step's code keeps the current one free for the next sign-in, but the
        # server accepts it only until the current step ends: in a step's last 10 s (a
        # loaded machine may take that long to submit) the current step's code is used,
        # valid through the next step. No waiting: an idle-timeout test signs in too.
        left = 30 - time.time() % 30
        at = time.time() - 30 if left > 10 else time.time()
        SPENT_STEP[self.seed] = int(at // 30)
        self.page.get_by_label("身份验证器显示的 6 位动态口令").fill(totp(self.seed, at))
        self.page.get_by_role("button", name="确认绑定").click()
        expect(self.page.locator(".alert.success")).to_contain_text("动态口令已绑定")

    def menu_links(self):
        return self.page.locator("nav[aria-label=主菜单] a").evaluate_all("els => els.map(e => e.getAttribute('href'))")

    def no_horizontal_scroll(self):
        viewport = self.page.viewport_size["width"]
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport, f"{self.page.url} is {width}px wide at {viewport}px"

    def fits(self, paths, viewports=({"width": WIDTH, "height": HEIGHT}, TABLET), shot_prefix=None):
        """Each page at each viewport: nothing wider than the screen (wide tables scroll
        inside their own box)."""
        try:
            for vp in viewports:
                self.page.set_viewport_size(vp)
                for path in paths:
                    self.go(path)
                    self.no_horizontal_scroll()
                    if shot_prefix and vp is TABLET:
                        self.shot(f"{shot_prefix}-tablet")
                        shot_prefix = None
        finally:
            self.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "shuan"))
    ap.add_argument("--shots", default=None)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    if not os.path.isfile(args.chromium):
        sys.exit(f"no browser at {args.chromium}: run `bash scripts/install-test-deps.sh` (Debian's chromium)")
    work = tempfile.mkdtemp(prefix="shuan-console-")
    shots = args.shots or os.path.join(work, "shots")
    os.makedirs(shots, exist_ok=True)
    server = Server(args.binary, work)
    quick = Server(args.binary, os.path.join(work, "idle"), "--session-idle-secs", str(IDLE_SECS))
    r = Results()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--lang=zh-CN"])
            run(browser, server, shots, r)
            run_idle(browser, quick, shots, r)
            browser.close()
    finally:
        server.stop()
        quick.stop()
    print(f"screenshots: {shots}")
    print(f"{r.passed} passed, {r.failed} failed")
    sys.exit(1 if r.failed else 0)


def run(browser, server, shots, r):
    sys_ = Console(browser, server, shots, "sysadmin")
    p = sys_.page

    def sign_in_form_accessible():
        sys_.go("/login")
        sys_.shot("01-sign-in")
        # Every visible input has a label.
        unlabelled = p.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(e => !e.labels || e.labels.length === 0).map(e => e.name)""")
        assert unlabelled == [], unlabelled
        # Keyboard: the account field has focus, Tab walks the form in order, Enter sends.
        assert p.evaluate("document.activeElement.id") == "username"
        order = []
        for _ in range(3):
            p.keyboard.press("Tab")
            order.append(p.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        assert order == ["password", "totp", "登 录"], order
        p.focus("#username")
        p.keyboard.type("sysadmin")
        p.keyboard.press("Tab")
        p.keyboard.type("not-the-password")
        p.keyboard.press("Enter")
        expect(p.locator("#password-error")).to_contain_text("用户名或密码错误")
        sys_.no_horizontal_scroll()
    r.check("sign-in form: labels, keyboard order, error beside the field", sign_in_form_accessible)

    def sysadmin_first_sign_in():
        sys_.first_sign_in("sysadmin", server.otps["sysadmin"], shots=True)
        sys_.shot("04-sysadmin-dashboard")
        links = sys_.menu_links()
        for need in ["/system/departments", "/system/users", "/system/sessions", "/system/api-keys", "/data/jobs"]:
            assert need in links, links
        for never in ["/audit/log", "/security/grants", "/approvals"]:
            assert never not in links, links
    r.check("system_admin: first sign-in with TOTP enrolment, menu by role", sysadmin_first_sign_in)

    def sysadmin_departments_and_users():
        sys_.go("/system/departments?new=")
        p.get_by_label("机构代码").fill("CZJ")
        p.get_by_label("部门名称", exact=True).fill("市财政局")
        p.get_by_label("上级部门").select_option("ROOT")
        p.get_by_role("button", name="确定").click()
        expect(p.locator(".alert.success")).to_contain_text("已新增部门")
        sys_.go("/system/departments?new=CZJ")
        p.get_by_label("机构代码").fill("CZJ-YSK")
        p.get_by_label("部门名称", exact=True).fill("预算科")
        p.get_by_role("button", name="确定").click()
        expect(p.locator("#departments")).to_contain_text("预算科")
        sys_.shot("05-departments-tree")
        created = {}
        for username, name, dept in [("lina", "李娜", "CZJ"), ("zhangwei", "张伟", "CZJ-YSK"), ("zhaoliu", "赵六", "CZJ")]:
            sys_.go("/system/users")
            p.get_by_role("link", name="＋ 新增").click()
            p.get_by_label("账号", exact=True).fill(username)
            p.get_by_label("姓名").fill(name)
            p.get_by_label("所属部门").select_option(dept)
            p.get_by_role("button", name="确定").click()
            created[username] = p.locator("#one-time-password").inner_text()
            if username == "lina":
                sys_.shot("06-user-created-one-time-password")
        server.one_time = created
        sys_.go("/system/users")
        expect(p.locator("#users")).to_contain_text("张伟")
        sys_.no_horizontal_scroll()
        sys_.shot("07-users")
        # The toolbar's 修改 acts on the chosen row.
        p.get_by_label("选择 zhangwei").check()
        p.get_by_role("button", name="修改").click()
        expect(p).to_have_url(re.compile(r"/system/users/zhangwei$"))
        with p.expect_download() as dl:
            sys_.go("/system/users")
            p.get_by_role("link", name="导出").click()
        text = open(dl.value.path(), encoding="utf-8-sig").read()
        assert '"zhangwei","张伟","预算科"' in text, text
    r.check("system_admin: department tree, new accounts with one-time passwords, export", sysadmin_departments_and_users)

    def sysadmin_api_keys_and_backup():
        sys_.go("/system/api-keys")
        p.get_by_role("link", name="＋ 新增").click()
        p.get_by_label("用途").fill("财政预算系统对接")
        p.get_by_label("角色", exact=True).select_option("data_user")
        p.get_by_label("部门", exact=True).select_option("CZJ")
        p.get_by_label("有效天数（1–365）").fill("400")
        p.get_by_role("button", name="确定").click()
        expect(p.locator("#f-expires_in_days-error")).to_be_visible()
        p.get_by_label("有效天数（1–365）").fill("90")
        p.get_by_role("button", name="确定").click()
        secret = p.locator("#api-key-secret").inner_text()
        assert secret.startswith("shuan_ak_"), secret
        # The key works on the API, with its role's rights only.
        status, _ = server.api("GET", "/api/v1/catalogue", secret)
        assert status == 200, status
        status, _ = server.api("GET", "/api/v1/users", secret)
        assert status == 403, status
        sys_.go("/system/api-keys")
        expect(p.locator("#api-keys")).to_contain_text("财政预算系统对接")
        expect(p.locator("#api-keys")).not_to_contain_text(secret)
        sys_.shot("07b-api-keys")
        p.locator("#api-keys tr", has_text="财政预算系统对接").get_by_role("button", name="吊销").click()
        expect(p.locator(".alert.success")).to_contain_text("已吊销")
        status, _ = server.api("GET", "/api/v1/catalogue", secret)
        assert status == 401, status
        # A backup, watched to its end on the job's page (which reloads itself).
        sys_.go("/data/jobs")
        p.get_by_role("button", name="立即备份").click()
        expect(p).to_have_url(re.compile(r"/data/jobs/\d+"))
        expect(p.locator("#job-status")).to_have_text("已完成", timeout=60_000)
        expect(p.locator("#job-percent")).to_have_text("100%")
        expect(p.locator("#job-result")).to_contain_text("shuanbak")
    r.check("system_admin: API key shown once, works, revoked; a backup job watched to its end", sysadmin_api_keys_and_backup)

    sec = Console(browser, server, shots, "secadmin")
    q = sec.page

    def secadmin_grants():
        sec.first_sign_in("secadmin", server.otps["secadmin"])
        links = sec.menu_links()
        for need in ["/security/grants", "/security/settings", "/security/policies"]:
            assert need in links, links
        assert "/audit/log" not in links and "/system/sessions" in links, links
        sec.go("/security/grants?user=sysadmin")
        q.get_by_label("角色", exact=True).select_option("auditor")
        q.get_by_label("授权部门").select_option("ROOT")
        q.get_by_label("数据范围").select_option("all")
        q.get_by_role("button", name="授权").click()
        expect(q.locator("#f-role-error")).to_contain_text("三员分立")
        sec.shot("08-separation-of-duties-refused")
        for user, role, dept, scope in [("lina", "chief_data_officer", "CZJ", "own_department_and_below"),
                                        ("zhangwei", "data_user", "CZJ-YSK", "own_department"),
                                        ("zhaoliu", "data_steward", "CZJ", "own_department_and_below")]:
            sec.go(f"/security/grants?user={user}")
            q.get_by_label("角色", exact=True).select_option(role)
            q.get_by_label("授权部门").select_option(dept)
            q.get_by_label("数据范围").select_option(scope)
            q.get_by_role("button", name="授权").click()
            expect(q.locator(".alert.success")).to_contain_text("已为")
        expect(q.locator("#grants")).to_contain_text("部门数据管理员")
        sec.go("/security/grants?user=zhangwei")
        expect(q.locator("#grants")).to_contain_text("数据使用人员")
        sec.no_horizontal_scroll()
        sec.shot("09-grants")
    r.check("security_admin: grants with data scopes, 三员分立 refusal beside the field", secadmin_grants)

    def secadmin_settings_and_policies():
        sec.go("/security/settings")
        q.get_by_label("连续失败次数").fill("-1")
        q.get_by_role("button", name="保存锁定策略").click()
        expect(q.locator("#f-max_failures-error")).to_be_visible()
        q.get_by_label("连续失败次数").fill("6")
        q.get_by_role("button", name="保存锁定策略").click()
        expect(q.locator(".alert.success")).to_contain_text("已保存")
        expect(q.get_by_label("连续失败次数")).to_have_value("6")
        sec.shot("10-settings")
        sec.go("/security/policies")
        q.get_by_label("策略编号").fill("no-vendor-keys")
        q.get_by_label("Cedar 策略文本").fill('forbid (principal, action == Action::"key.rotate", resource) when { principal.vendor };')
        q.get_by_role("button", name="校验预览").click()
        expect(q.locator("#policy-preview")).to_contain_text("校验通过")
        q.get_by_label("Cedar 策略文本").fill("permit (principal, action, resource) when { nonsense };")
        q.get_by_role("button", name="校验预览").click()
        expect(q.locator("#policy-preview")).to_contain_text("校验未通过")
        sec.shot("11-policy-preview")
    r.check("security_admin: lockout policy with errors beside fields, policy validation preview", secadmin_settings_and_policies)

    def secadmin_rotates_a_key():
        sec.go("/security/keys")
        expect(q.locator("#keys")).to_contain_text("在用")
        before = q.locator("#keys tbody tr").count()
        q.locator("#keys tbody tr", has=q.get_by_role("button", name="轮换")).first.get_by_role("button", name="轮换").click()
        expect(q.locator(".alert.success")).to_contain_text("已轮换")
        assert q.locator("#keys tbody tr").count() == before + 1
        expect(q.locator("#keys")).to_contain_text("已停用（仅解密）")
        sec.shot("11b-keys")
    r.check("security_admin: key list without material, a rotation after confirmation", secadmin_rotates_a_key)

    def steward_scans_and_finds_the_table():
        stw = Console(browser, server, shots, "zhaoliu")
        s_ = stw.page
        # A data steward does not need TOTP: the password change leads to the dashboard.
        stw.first_sign_in("zhaoliu", server.one_time["zhaoliu"], enrol=False)
        expect(s_).to_have_url(re.compile(r"/\?ok="))
        links = stw.menu_links()
        for need in ["/data/jobs", "/data/inventory"]:
            assert need in links, links
        for never in ["/system/users", "/security/grants", "/audit/log", "/approvals", "/system/api-keys"]:
            assert never not in links, links
        stw.go("/data/jobs")
        s_.get_by_role("link", name="＋ 新建扫描").click()
        s_.get_by_label("数据源").fill("people.csv")
        s_.get_by_label("数据所属部门").select_option("CZJ")
        s_.get_by_label("每列抽样数（默认 1000）").fill("many")
        s_.get_by_role("button", name="开始任务").click()
        expect(s_.locator("#f-sample-error")).to_be_visible()
        s_.get_by_label("每列抽样数（默认 1000）").fill("")
        s_.get_by_label("数据源").fill("../platform.db")
        s_.get_by_role("button", name="开始任务").click()
        expect(s_.locator("#f-source-error")).to_be_visible()
        stw.shot("19-scan-form-error")
        s_.get_by_label("数据源").fill("people.csv")
        s_.get_by_role("button", name="开始任务").click()
        expect(s_).to_have_url(re.compile(r"/data/jobs/\d+"))
        expect(s_.locator(".alert.success")).to_contain_text("可离开本页")
        expect(s_.locator("#job-status")).to_have_text("已完成", timeout=60_000)
        stw.shot("20-scan-job-done")
        stw.go("/data/jobs")
        expect(s_.locator("#jobs")).to_contain_text("扫描入库")
        stw.go("/data/inventory")
        expect(s_.locator("#inventory")).to_contain_text("people")
        stw.shot("21-inventory")
        # A table's columns: detected type, level, confidence and why.
        s_.get_by_role("link", name="people", exact=True).click()
        expect(s_.locator("table.columns")).to_contain_text("id_no")
        expect(s_.locator("table.columns")).to_contain_text("%")
        stw.shot("21b-inventory-columns")
        stw.fits(["/data/jobs", "/data/inventory"], shot_prefix="22-inventory")
        # Another role's page: denied in the policy's words.
        stw.go("/system/users")
        expect(s_.locator("h1")).to_contain_text("没有权限访问此页面")
        expect(s_.locator("#denial-reason")).not_to_be_empty()
        stw.ctx.close()
    r.check("data_steward: menu by role, a scan with errors beside fields, progress to the end, inventory", steward_scans_and_finds_the_table)

    def elevation_approved_by_cdo():
        # zhangwei (数据使用人员) activates the account and asks, over the API, for a
        # data steward's role for an hour: the console's request page comes later.
        status, v = server.api("POST", "/api/v1/session", body={"username": "zhangwei", "password": server.one_time["zhangwei"]})
        assert status == 200, v
        token = v["token"]
        status, v = server.api("POST", "/api/v1/session/password", token, {"current_password": server.one_time["zhangwei"], "new_password": PASSWORD})
        assert status == 200, v
        status, v = server.api("POST", "/api/v1/elevations", token, {
            "role": "data_steward", "department": "CZJ-YSK", "scope": {"kind": "own_department"},
            "reason": "年度预算数据分类分级复核", "duration_minutes": 60})
        assert status == 201, v
        cdo = Console(browser, server, shots, "lina")
        cdo.first_sign_in("lina", server.one_time["lina"])
        c = cdo.page
        assert "/approvals" in cdo.menu_links()
        cdo.go("/")
        expect(c.locator("#cards")).to_contain_text("待审批的超出权限申请")
        cdo.go("/approvals")
        expect(c.locator("#approvals")).to_contain_text("年度预算数据分类分级复核")
        cdo.shot("12-approvals-inbox")
        row = c.locator("#approvals tr", has_text="zhangwei")
        row.get_by_label("意见").fill("同意，限一小时")
        row.get_by_role("button", name="批准").click()
        expect(c.locator(".alert.success")).to_contain_text("已批准")
        status, v = server.api("GET", "/api/v1/elevations?status=approved", token)
        assert status == 200 and v and v[0]["decided_by"] == "lina", v
        server.seeds["lina"] = cdo.seed
        cdo.ctx.close()
    r.check("chief_data_officer: approvals inbox, an elevation approved", elevation_approved_by_cdo)

    sharing_flow(browser, server, shots, r)

    aud = Console(browser, server, shots, "auditor")
    a = aud.page

    def forced_sign_out_returns_to_sign_in():
        aud.first_sign_in("auditor", server.otps["auditor"])
        sys_.go("/system/sessions")
        sys_.shot("13-online-users")
        row = p.locator("#sessions tr", has_text="auditor")
        row.get_by_role("button", name="强退").click()
        expect(p.locator(".alert.success")).to_contain_text("强制下线")
        aud.go("/audit/log")
        expect(a).to_have_url(re.compile(r"/login\?expired=1"))
        expect(a.locator(".alert.error")).to_contain_text("会话已超时或已被强制下线")
        aud.shot("14-session-ended")
    r.check("system_admin forces a sign-out; the ended session returns to sign-in", forced_sign_out_returns_to_sign_in)

    def auditor_finds_everything():
        wait_for_fresh_step()
        # Signed out, the page asked for is remembered through the sign-in.
        aud.go("/audit/log")
        expect(a).to_have_url(re.compile(r"/login\?next=%2Faudit%2Flog"))
        a.get_by_label("账号", exact=True).fill("auditor")
        a.get_by_label("密码", exact=True).fill(PASSWORD)
        a.get_by_label("动态口令").fill(totp(aud.seed, time.time()))
        a.get_by_role("button", name="登 录").click()
        expect(a).to_have_url(re.compile(r"/audit/log$"))
        links = aud.menu_links()
        assert "/audit/log" in links and "/audit/logins" in links, links
        assert "/system/sessions" in links and "/security/policies" in links, links  # read-only pages
        for action, actor in [("elevation.decide", "lina"), ("grant.create", "secadmin"), ("user.create", "sysadmin"),
                              *([("service.call", "zhangwei"), ("share_request.review", "zhaoliu")] if server.shared else []),
                              ("session.revoke", "sysadmin"), ("settings.update_security", "secadmin")]:
            aud.go("/audit/log")
            a.get_by_label("操作人").fill(actor)
            a.get_by_label("动作").select_option(action)
            a.get_by_role("button", name="搜索").click()
            expect(a.locator("#audit tbody tr").first).to_contain_text(actor)
            expect(a.locator("#audit tbody")).to_contain_text("允许")
        aud.go("/audit/log?outcome=denied")
        expect(a.locator("#audit")).to_contain_text("拒绝")
        aud.no_horizontal_scroll()
        aud.shot("15-audit-log")
        with a.expect_download() as dl:
            a.get_by_role("link", name="导出").click()
        text = open(dl.value.path(), encoding="utf-8-sig").read()
        assert text.startswith('"时间","操作人"'), text[:80]
        assert "session.login" in text or "audit.read" in text
        aud.go("/audit/logins")
        expect(a.locator("#audit")).to_contain_text("用户名或密码错误")
        aud.shot("16-login-log")
        aud.go("/")
        expect(a.locator("#audit-chart")).to_be_visible()
        aud.shot("17-auditor-dashboard")
        assert "/audit/ledger" in aud.menu_links()
        aud.go("/audit/ledger")
        expect(a.locator("#ledger-status")).to_contain_text("完整")
        aud.shot("17b-ledger")
        # The steward's scan and its end are in the log.
        aud.go("/audit/log?actor=zhaoliu&action=scan.run")
        expect(a.locator("#audit tbody tr").first).to_contain_text("zhaoliu")
        aud.fits(["/audit/log", "/audit/logins", "/audit/ledger", "/"], shot_prefix="17c-audit-log")
    r.check("auditor: search, CSV export, login log, dashboard chart", auditor_finds_everything)

    def denied_page_for_wrong_role():
        sys_.go("/audit/log")
        expect(p.locator("h1")).to_contain_text("没有权限访问此页面")
        expect(p.locator("#denial-reason")).to_contain_text("没有权限")
        sys_.shot("18-denied")
        # The auditor finds the refused view.
        aud.go("/audit/log?actor=sysadmin&action=audit.read&outcome=denied")
        expect(a.locator("#audit tbody tr").first).to_contain_text("sysadmin")
    r.check("a page of another role is denied in the policy's words and recorded", denied_page_for_wrong_role)

    def csrf_and_origin_refused():
        sys_.go("/system/users")
        # Same origin, same cookies, no token.
        res = p.request.post(server.base + "/system/users", form={"username": "mallory", "display_name": "x", "department": "ROOT"},
                             headers={"origin": server.base})
        assert res.status == 403, res.status
        assert "表单校验码" in res.text()
        # The right token from another origin.
        token = p.locator("input[name=_csrf]").first.get_attribute("value")
        res = p.request.post(server.base + "/system/users", form={"_csrf": token, "username": "mallory", "display_name": "x", "department": "ROOT"},
                             headers={"origin": "http://evil.example"})
        assert res.status == 403, res.status
        assert "请求来源校验失败" in res.text()
        sys_.go("/system/users")
        expect(p.locator("#users")).not_to_contain_text("mallory")
        # The page's own script and style only: no CSP violations were reported.
        assert not [e for e in sys_.console_errors if "Content Security Policy" in e], sys_.console_errors
    r.check("a POST without the CSRF token or from another origin is refused", csrf_and_origin_refused)

    def system_pages_fit_1366_and_tablet():
        sys_.fits(["/system/users", "/", "/system/departments", "/system/sessions", "/system/api-keys", "/data/jobs"],
                  shot_prefix="23-users")
    r.check("system_admin's pages fit 1366×768 and a tablet without horizontal scrolling", system_pages_fit_1366_and_tablet)


def postgres_source():
    """A fresh PostgreSQL database holding testdata/mask/people.csv as table `people`, on
    the server SHUAN_TEST_POSTGRES names; its URL, or None when the variable is unset."""
    url = os.environ.get("SHUAN_TEST_POSTGRES")
    if not url:
        return None
    db = f"shuan_console_{os.getpid()}"
    base, _, query = url.partition("?")
    db_url = base[:base.rfind("/")] + "/" + db + (("?" + query) if query else "")
    run = lambda u, *cmds: subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", u, *[a for c in cmds for a in ("-c", c)]],
                                          check=True, stdout=subprocess.DEVNULL)
    run(url, f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db}")
    people = os.path.join(REPO, "testdata", "mask", "people.csv")
    run(db_url, "CREATE TABLE people (id_no text PRIMARY KEY, name text, phone text, address text, "
                "birth_date date, income numeric, visits integer, remark text)",
        f"\\copy people FROM '{people}' WITH (FORMAT csv, HEADER true)")
    return db_url


def sharing_flow(browser, server, shots, r):
    """The data user requests a resource from the catalogue, the provider's steward and the
    chief data officer approve, the user calls the service and gets masked rows."""
    url = postgres_source()
    if url is None:
        print("skip sharing flow: SHUAN_TEST_POSTGRES is not set (the source is a PostgreSQL database)", flush=True)
        return

    def sign_in_api(username):
        status, v = server.api("POST", "/api/v1/session", body={"username": username, "password": PASSWORD})
        assert status == 200, v
        return v["token"]

    def user_requests_steward_and_cdo_approve_user_calls():
        steward_token = sign_in_api("zhaoliu")
        status, v = server.api("POST", "/api/v1/sources", steward_token,
                               {"name": "dibao", "url": url, "department": "CZJ-YSK", "profile": "xinyang"})
        assert status == 201, v
        status, entries = server.api("GET", "/api/v1/catalogue", steward_token)
        entry = next(e for e in entries if e["name"] == "people")
        code = entry["code"]
        # zhangwei (数据使用人员, 预算科) finds the resource and asks for three fields.
        usr = Console(browser, server, shots, "zhangwei")
        u = usr.page
        usr.sign_in("zhangwei", PASSWORD)
        assert "/sharing/catalogue" in usr.menu_links(), usr.menu_links()
        usr.go("/sharing/catalogue")
        expect(u.locator("#catalogue")).to_contain_text(code)
        usr.shot("25-catalogue")
        u.locator("#catalogue tr", has_text=code).get_by_role("link", name="查看 / 申请").click()
        u.locator("input[name=fields]").evaluate_all("els => els.forEach(e => e.checked = ['id_no', 'name', 'income'].includes(e.value))")
        u.get_by_label("履职依据").fill("《社会救助暂行办法》第十一条")
        u.get_by_role("button", name="提交申请").click()
        # 用途 left empty: said beside the field, the rest kept.
        expect(u.locator(".field-error, .alert.error").first).to_be_visible()
        expect(u.get_by_label("履职依据")).to_have_value("《社会救助暂行办法》第十一条")
        u.get_by_label("用途").fill("核对低保对象收入")
        u.get_by_role("button", name="提交申请").click()
        expect(u).to_have_url(re.compile(r"/sharing/requests/\d+"))
        expect(u.locator(".alert.success")).to_contain_text("已提交")
        request_path = re.search(r"/sharing/requests/\d+", u.url).group(0)
        usr.shot("26-share-request-filed")
        # The steward of the providing department reviews it: a refusal needs a reason.
        stw = Console(browser, server, shots, "zhaoliu-sharing")
        s_ = stw.page
        stw.sign_in("zhaoliu", PASSWORD)
        stw.go(request_path)
        s_.get_by_role("button", name="驳回").click()
        expect(s_.locator("#f-note-error")).to_be_visible()
        s_.get_by_label("审核意见（驳回时必填）").fill("字段最小必要，同意")
        s_.get_by_role("button", name="批准").click()
        # Approved, or passed on to the chief data officer when the level asks for it.
        expect(s_.locator(".alert.success")).to_contain_text(re.compile("已审核通过|已批准"))
        stw.shot("27-share-request-steward")
        stw.ctx.close()
        # The chief data officer signs off (three-level data is important data here).
        status, v = server.api("GET", "/api/v1" + request_path.replace("/sharing", "").replace("requests", "share-requests"), sign_in_api("zhangwei"))
        if v["status"] == "pending":
            cdo = Console(browser, server, shots, "lina-sharing")
            c = cdo.page
            cdo.sign_in("lina", PASSWORD, unspent_totp(server.seeds["lina"]))
            cdo.go(request_path)
            expect(c.locator("h2").first).to_contain_text("审批记录")
            cdo.shot("27-share-request-cdo")
            c.get_by_label("每分钟调用上限（可选）").fill("30")
            c.get_by_role("button", name="批准").click()
            expect(c.locator(".alert.success")).to_contain_text("共享协议")
            cdo.ctx.close()
        # The steward publishes a lookup by resident id (a required exact match on personal data).
        status, v = server.api("POST", "/api/v1/services", steward_token, {
            "name": "dibao_lookup", "resource": code, "fields": ["id_no", "name", "income"],
            "params": [{"name": "id_no", "column": "id_no", "op": "eq", "required": True}], "max_rows": 10})
        assert status == 201, v
        usr.go("/sharing/services")
        u.locator("#services tr", has_text="dibao_lookup").get_by_role("link", name="调用").click()
        u.get_by_label(re.compile("^id_no")).fill("440703195102020013")
        u.get_by_role("button", name="调用").click()
        expect(u.locator("#call-rows")).to_contain_text("3137")
        expect(u.locator("#call-rows")).not_to_contain_text("440703195102020013")
        usr.no_horizontal_scroll()
        usr.shot("28-service-call-masked")
        usr.go(request_path)
        expect(u.locator("#request-status")).to_have_text("已批准")
        usr.ctx.close()
        server.shared = True
    r.check("sharing: a data user requests from the catalogue, steward and CDO approve, the service answers masked rows",
            user_requests_steward_and_cdo_approve_user_calls)


def run_idle(browser, server, shots, r):
    """A server whose sessions end after IDLE_SECS without a request."""
    def session_times_out():
        c = Console(browser, server, shots, "sysadmin-idle")
        c.first_sign_in("sysadmin", server.otps["sysadmin"])
        expect(c.page.locator("#cards")).to_be_visible()
        # Left alone, the page goes back to the sign-in page by itself, saying why.
        expect(c.page).to_have_url(re.compile(r"/login\?expired=1"), timeout=(IDLE_SECS + 10) * 1000)
        expect(c.page.locator(".alert.error")).to_contain_text("会话已超时")
        # And the server agrees: the old cookie opens nothing.
        c.go("/system/users")
        expect(c.page).to_have_url(re.compile(r"/login\?expired=1"))
        c.shot("24-session-timed-out")
        c.ctx.close()
    r.check("an idle session times out: the page returns to sign-in and the server refuses it", session_times_out)


if __name__ == "__main__":
    main()
