#!/usr/bin/python3
# Parses a Prometheus text exposition (stdin) with the parser of the
# official client library (Debian's python3-prometheus-client), and prints
# each sample as "name{sorted labels} value", one per line; exits 1, with
# the parser's message, if the text does not parse or breaks a rule the
# parser checks (a family's samples together, one HELP and TYPE each).
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
try:
    seen = set()
    for family in text_string_to_metric_families(text):
        if family.name in seen:
            raise ValueError("family %s given twice" % family.name)
        seen.add(family.name)
        for s in family.samples:
            labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
            print("%s{%s} %s" % (s.name, labels, repr(float(s.value))))
        print("# family %s %s" % (family.name, family.type))
except Exception as e:
    print("parse error: %s" % e)
    sys.exit(1)
