# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place for waiting: poll a read call until a condition holds, or time out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError


class WaitTimeout(NotebooksError):
    pass


def poll(fetch, done, timeout, what, delay=1.0, max_delay=10.0, clock=time.monotonic, sleep=time.sleep):
    """Call ``fetch()`` until ``done(value)`` is true; return that value.

    The delay grows from ``delay`` to ``max_delay`` (x1.5 a round) so short transitions are seen
    at once and long ones cost few calls.  On timeout, raise WaitTimeout naming ``what``, the
    timeout and the last value seen.
    """
    deadline = clock() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(
                "Timed out after %ss waiting for %s (last seen: %s)" % (timeout, what, value),
                last_seen=value,
            )
        sleep(min(delay, remaining))
        delay = min(delay * 1.5, max_delay)
