#!/usr/bin/env python3
"""Regenerates the tiny text fixtures of shuan-source's tests (GBK CSV, UTF-8 BOM CSV, TSV).
Values are synthetic; the resident ID numbers are the GB 11643 example numbers from
../../shared/standards (check digits valid)."""
rows = [("姓名", "身份证号", "手机号", "住址"),
        ("张三", "110105194912310021", "13800138000", "北京市朝阳区建国路88号"),
        ("李四", "", "13912345678", "河南省信阳市浉河区民权路1号"),
        ("王五", "11010519491231002X", "", "")]
text = "\r\n".join(",".join(r) for r in rows) + "\r\n"
open("hukou_gbk.csv", "wb").write(text.encode("gbk"))
open("hukou_utf8_bom.csv", "wb").write(b"\xef\xbb\xbf" + text.encode("utf-8"))
tsv = [("单位名称", "统一社会信用代码", "缴费金额"),
       ("信阳市财政局", "11411500006128XXXX", "1200.50"),
       ("某某科技有限公司", "91411500MA44XXXXXX", "800")]
open("shebao.tsv", "wb").write("\n".join("\t".join(r) for r in tsv).encode() + b"\n")
