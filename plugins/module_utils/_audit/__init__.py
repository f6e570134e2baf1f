# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is every notebook of a region isolated today?  The read-only audit behind ``isolation_audit``,
one file per reason to change:

- ``findings``: every finding id with its severity, title and remediation (the module documents
  them), the severity scale, ``fail_on`` and the finding records.
- ``policy``: the policy-document analysers (S3 endpoint, execution role, trust, script bucket).
- ``checks``: the other checks over already-fetched API data (notebook, network, role, lifecycle
  configuration, script bucket).  Like ``policy``, data in, findings out; no AWS.
- ``cache``: ``ResourceCache``, the reads, each resource once per run, counted per operation.
- ``audit``: ``validate()``, ``audit()`` (``gather()`` through the cache, then ``report()``),
  ``reaches()`` and ``failure_message()``.

A new finding, a new policy rule or a new AWS read each starts in one of these files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
