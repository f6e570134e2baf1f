# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module parameters of notebook_instance as AnsibleModule hands them over (every option present)."""


def params(**overrides):
    """notebook_instance parameters: all options unset except name/state, then ``overrides``."""
    base = dict(
        name="nb-1",
        state="present",
        instance_type=None,
        role_arn=None,
        subnet_id=None,
        security_group_ids=None,
        direct_internet_access=None,
        root_access=None,
        kms_key_id=None,
        volume_size_in_gb=None,
        lifecycle_config_name=None,
        platform_identifier=None,
        minimum_imds_version=None,
        default_code_repository=None,
        additional_code_repositories=None,
        tags=None,
        purge_tags=True,
        wait=True,
        wait_timeout=60,
    )
    base.update(overrides)
    return base
