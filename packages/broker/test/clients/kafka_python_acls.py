"""kafka-python's KafkaAdminClient creates, describes and deletes ACLs against Sluice.

Usage: kafka_python_acls.py <bootstrap>. Prints 'kafka-python acls: ok' at the end; any mismatch
raises (a non-zero exit).
"""
import sys

from kafka import KafkaAdminClient
from kafka.admin import ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourcePatternFilter, ResourceType

bootstrap = sys.argv[1]
admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='acl-test', request_timeout_ms=10000)

literal = ACL(principal='User:alice', host='*', operation=ACLOperation.READ, permission_type=ACLPermissionType.ALLOW,
              resource_pattern=ResourcePattern(ResourceType.TOPIC, 'orders', ACLResourcePatternType.LITERAL))
prefixed = ACL(principal='User:bob', host='10.0.0.1', operation=ACLOperation.WRITE, permission_type=ACLPermissionType.DENY,
               resource_pattern=ResourcePattern(ResourceType.TOPIC, 'pay-', ACLResourcePatternType.PREFIXED))
group = ACL(principal='User:alice', host='*', operation=ACLOperation.READ, permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(ResourceType.GROUP, 'g1', ACLResourcePatternType.LITERAL))

created = admin.create_acls([literal, prefixed, group])
assert not created['failed'], created
assert len(created['succeeded']) == 3, created

any_topic = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                      resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, None, ACLResourcePatternType.ANY))
acls, error = admin.describe_acls(any_topic)
assert error.errno == 0, error
seen = sorted((a.principal, a.host, a.operation, a.permission_type, a.resource_pattern.resource_name, a.resource_pattern.pattern_type) for a in acls)
assert seen == [
    ('User:alice', '*', ACLOperation.READ, ACLPermissionType.ALLOW, 'orders', ACLResourcePatternType.LITERAL),
    ('User:bob', '10.0.0.1', ACLOperation.WRITE, ACLPermissionType.DENY, 'pay-', ACLResourcePatternType.PREFIXED),
], seen

# MATCH: the ACLs that apply to topic pay-eu.
match = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                  resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, 'pay-eu', ACLResourcePatternType.MATCH))
acls, error = admin.describe_acls(match)
assert error.errno == 0 and [a.resource_pattern.resource_name for a in acls] == ['pay-'], (error, acls)

alice = ACLFilter(principal='User:alice', host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                  resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
deleted = admin.delete_acls([alice])
(filter_, matches, error), = deleted
assert error is None or getattr(error, 'errno', 0) == 0, deleted
assert sorted(m[0].resource_pattern.resource_name for m in matches) == ['g1', 'orders'], matches

acls, error = admin.describe_acls(ACLFilter(principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                                            resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
left = sorted(a.principal for a in acls)
assert left == ['User:ANONYMOUS', 'User:bob'], left
admin.close()
print('kafka-python acls: ok')
