# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator counts the calls it serves by service and action, for every AWS protocol we use."""


def test_counts_by_service_and_action(emulator):
    emulator.request_counts(reset=True)
    sm, ec2, iam, s3 = (emulator.client(name) for name in ("sagemaker", "ec2", "iam", "s3"))
    sm.list_notebook_instances()  # JSON protocol (X-Amz-Target)
    sm.list_notebook_instances()
    ec2.describe_vpcs()  # EC2 query protocol
    iam.list_roles()  # query protocol, POST body
    s3.create_bucket(Bucket="counted-bucket")  # REST
    s3.put_object(Bucket="counted-bucket", Key="a/b.txt", Body=b"x")
    s3.get_bucket_versioning(Bucket="counted-bucket")
    counts = emulator.request_counts()
    assert counts == {
        "sagemaker": {"ListNotebookInstances": 2},
        "ec2": {"DescribeVpcs": 1},
        "iam": {"ListRoles": 1},
        "s3": {"PUT bucket": 1, "PUT object": 1, "GET bucket?versioning": 1},
    }
    # The counted requests were still served normally (the body was put back).
    assert iam.list_roles()["Roles"] == []
    assert emulator.request_counts(reset=True)["iam"]["ListRoles"] == 2
    assert emulator.request_counts() == {}
