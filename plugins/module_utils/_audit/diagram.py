# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A picture of a notebook's path to its data, as Mermaid flowchart source: notebook -> subnet -> route
table -> S3 gateway endpoint -> script bucket, and the way out to the internet where there is one, with
the parts the findings name marked broken.  Findings in, text out; no AWS."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

# Which part of the path a finding breaks.
TO_INTERNET = ("direct-internet-access", "no-subnet")
ENDPOINT = ("s3-endpoint-policy-allow-all", "s3-endpoint-policy-write", "cross-team-endpoint")
BUCKET = ("bucket-public-access-not-blocked", "bucket-policy-public", "bucket-not-encrypted",
          "bucket-policy-no-tls-deny", "bucket-policy-no-endpoint-deny", "autostop-sha256-mismatch")  # fmt: skip
BROKEN_STYLE = "fill:#fde2e2,stroke:#c0392b,stroke-width:3px,color:#000"


# Label text comes from AWS (ids) and from lifecycle scripts (the bucket): everything but these characters is
# written as a Mermaid entity code (#60; for <), so no label can carry HTML, a directive (%%{init}%%) or a link.
SAFE = re.compile(r"[A-Za-z0-9 ._/:()'-]")
# The S3 bucket naming rules (S3 User Guide): anything else in a script's BUCKET= line is not drawn as a bucket.
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _escape(text):
    return "".join(c if SAFE.match(c) else "#%d;" % ord(c) for c in str(text))


def _label(*lines):
    """A node or edge label: each line escaped, the lines joined with <br/>."""
    return "<br/>".join(_escape(line) for line in lines if line)


def path_of(notebook, subnet_id, table_id, endpoint_ids, bucket):
    """What the notebook's path is made of (ids; None where there is none)."""
    return {
        "subnet_id": subnet_id,
        "route_table_id": table_id,
        "s3_endpoint_ids": sorted(endpoint_ids),
        "bucket": bucket if bucket is None or BUCKET_NAME.match(bucket) else "(not a bucket name)",
        "direct_internet_access": notebook.get("DirectInternetAccess"),
    }


def mermaid(name, path, findings):
    """The Mermaid source of ``name``'s path, the parts its ``findings`` name marked broken."""
    ids = set(f["id"] for f in findings)
    # Node ids of their own per notebook: the diagrams of one page share the document's id space.
    prefix = "n" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8] + "_"
    nodes, edges, broken_nodes, broken_edges = [], [], set(), []

    def node(key, text, shape='["%s"]'):
        line = "  %s%s%s" % (prefix, key, shape % text)
        if line not in nodes:
            nodes.append(line)

    def edge(source, target, text=None, broken=False):
        arrow = ' -->|"%s"| ' % _label(text) if text else " --> "
        edges.append("  %s%s%s%s%s" % (prefix, source, arrow, prefix, target))
        if broken:
            broken_edges.append(len(edges) - 1)

    node("nb", _label("notebook", name))

    if path["subnet_id"]:
        node("subnet", _label("subnet", path["subnet_id"]))
        edge("nb", "subnet")
        node("rt", _label("route table", path["route_table_id"] or "(unreadable)"))
        edge("subnet", "rt")
        endpoints = path["s3_endpoint_ids"]
        if endpoints:
            node("ep", _label("S3 gateway endpoint", *endpoints))
            edge("rt", "ep")
            if ids & set(ENDPOINT):
                broken_nodes.add("ep")
        if path["bucket"]:
            node("bucket", _label("bucket", path["bucket"]))
            if endpoints:
                edge("ep", "bucket")
            else:
                edge("rt", "bucket", "no S3 gateway endpoint", broken=True)
            if ids & set(BUCKET):
                broken_nodes.add("bucket")
        if not path["route_table_id"] or (not endpoints and not path["bucket"]):
            broken_nodes.add("rt")
        for item in findings:
            if item["id"] == "subnet-egress-route":
                evidence = item.get("evidence") or {}
                node("internet", "internet", '(("%s"))')
                route = "%s via %s" % (evidence.get("destination") or "a route", evidence.get("target") or "a gateway")
                edge("rt", "internet", route, True)
    if ids & set(TO_INTERNET):
        node("internet", "internet", '(("%s"))')
        edge("nb", "internet", "direct internet access" if path["subnet_id"] else "SageMaker's own VPC", True)
    # What breaks isolation off the path (the role, a check that could not be made): named beside it.
    drawn = set(TO_INTERNET + ENDPOINT + BUCKET + ("subnet-egress-route", "s3-endpoint-missing"))
    beside = sorted(set(f["id"] for f in findings if f["severity"] == "high" and f["id"] not in drawn))
    if beside:
        node("other", _label("also high", *beside))
        broken_nodes.add("other")
        edge("nb", "other")
    lines = ["flowchart LR"] + nodes + edges + ["  classDef broken %s" % BROKEN_STYLE]
    if broken_nodes:
        lines.append("  class %s broken" % ",".join(prefix + n for n in sorted(broken_nodes)))
    if broken_edges:
        lines.append("  linkStyle %s stroke:#c0392b,stroke-width:3px" % ",".join(str(i) for i in broken_edges))
    return "\n".join(lines)
