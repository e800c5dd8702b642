# The back office's accounts: PUT/GET/DELETE admin/users/{id}; the stored
# document, the info hash the bookings read, the settlement's index of each
# network's passports (kept true when the passports change); each refusal
# names its field and writes nothing; admin access.
#
#   prove -I t/lib t/210-accounts-admin.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use JSON::PP;
use Digest::SHA qw(sha256_hex);

our $PASSPORT = '{"network":"cowallonia","from":"2026-12-01","to":"2027-11-30"}';
our $COMPANY = '{"id":"acme","zones":["namur-province"],"networks":["cowallonia"]}';
our $ROLES = '{"admin":false,"site_operator":["cw-namur"]}';

our @ORDER = qw(name email passports company roles);
our %USER = (
    name => '"Ada Lovelace"',
    email => '"ada@example.org"',
    passports => "[$PASSPORT]",
    company => $COMPANY,
    roles => $ROLES,
);

# the account body with members replaced by raw JSON text (undef: removed)
sub user_with {
    my %with = @_;
    my %u = (%USER, %with);
    return '{' . CORE::join(',', map { "\"$_\":$u{$_}" }
                                 grep { defined $u{$_} } @ORDER) . '}';
}

our $USER = user_with();

# two passports of two networks; another user's passport in the index
our $TWO = user_with(passports => '[{"network":"swc","from":"2026-07-01",'
                                  . "\"to\":\"2026-12-31\"},$PASSPORT]");
our $BOB = 'HSET ms:passports:cowallonia bob 2026-01-01/2026-12-31';

# one passport, members replaced by raw JSON text (undef: removed)
sub passport {
    my %p = (network => '"cowallonia"', from => '"2026-12-01"',
             to => '"2027-11-30"', @_);
    return '{' . CORE::join(',', map { "\"$_\":$p{$_}" }
                                 grep { defined $p{$_} } sort keys %p) . '}';
}

our $DOC = {
    id => "ada", name => "Ada Lovelace", email => 'ada@example.org',
    passports => [{network => "cowallonia", from => "2026-12-01", to => "2027-11-30"}],
    company => {id => "acme", zones => ["namur-province"], networks => ["cowallonia"]},
    roles => {admin => \0, site_operator => ["cw-namur"]},
};

# the networks and the site an account may name
our $ADA_SHA = sha256_hex('ada@example.org');
our $SEED = "HSET ms:{networks}:passport cowallonia cowallonia-pass swc swc-pass\n"
    . "HSET ms:sites cw-namur "
    . "'{\"name\":\"CoWallonia Namur\",\"town\":\"Namur\",\"networks\":[\"cowallonia\"]}'";

our $HTTP = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
    . "    mobispot_admin loopback;\n";
our $API = "    location /api/v1/ { mobispot_api; }\n";

# what the refusals of TEST 5 and 6 must leave: nothing
our $NOTHING = <<'CHECK';
EXISTS ms:{user:ada}:doc ms:{user:ada}:info => 0
EXISTS ms:passports:cowallonia => 0
EXISTS ms:passports:swc => 0
CHECK

run_tests();

__DATA__

=== TEST 1: PUT an account: 201 with the stored document, 200 when replaced; GET returns it; the info and the index
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
$::SEED
--- request eval
["PUT /api/v1/admin/users/ada\n$::USER", "PUT /api/v1/admin/users/ada\n$::USER",
 "GET /api/v1/admin/users/ada"]
--- error_code eval
[201, 200, 200]
--- response_body_json eval
[$::DOC, $::DOC, $::DOC]
--- response_headers eval
["Content-Type: application/json", undef, "Content-Type: application/json"]
--- redis_check
GET ms:{user:ada}:doc => {"id":"ada","name":"Ada Lovelace","email":"ada@example.org","passports":[{"network":"cowallonia","from":"2026-12-01","to":"2027-11-30"}],"company":{"id":"acme","zones":["namur-province"],"networks":["cowallonia"]},"roles":{"admin":false,"site_operator":["cw-namur"]}}
HMGET ms:{user:ada}:info passports company company_zones company_networks admin operator_of => ["cowallonia/2026-12-01/2027-11-30","acme","namur-province","cowallonia","0","cw-namur"]
HLEN ms:{user:ada}:info => 7
HGETALL ms:passports:cowallonia => ["ada","2026-12-01/2027-11-30"]
EXISTS ms:passports:swc => 0
--- error_log
mobispot: account "ada" created
mobispot: account "ada" updated
--- no_error_log
[error]



=== TEST 2: a change of passports: the index follows (a network no longer held loses its field, others' fields stay); passports sorted, two of one network in one field
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
"$::SEED\n$::BOB"
--- request eval
["PUT /api/v1/admin/users/ada\n$::TWO",
 "PUT /api/v1/admin/users/ada\n"
 . main::user_with(passports => '[{"network":"swc","from":"2027-01-01","to":"2027-06-30"},'
                   . '{"network":"swc","from":"2026-07-01","to":"2026-12-31"}]',
                   company => undef),
 "GET /api/v1/admin/users/ada"]
--- error_code eval
[201, 200, 200]
--- response_body_json_subset eval
[{passports => [{network => "cowallonia", from => "2026-12-01", to => "2027-11-30"},
                {network => "swc", from => "2026-07-01", to => "2026-12-31"}]},
 {passports => [{network => "swc", from => "2026-07-01", to => "2026-12-31"},
                {network => "swc", from => "2027-01-01", to => "2027-06-30"}]},
 {passports => [{network => "swc", from => "2026-07-01", to => "2026-12-31"},
                {network => "swc", from => "2027-01-01", to => "2027-06-30"}]}]
--- redis_check
HGETALL ms:passports:cowallonia => ["bob","2026-01-01/2026-12-31"]
HGETALL ms:passports:swc => ["ada","2026-07-01/2026-12-31,2027-01-01/2027-06-30"]
HMGET ms:{user:ada}:info passports company company_zones company_networks => ["swc/2026-07-01/2026-12-31,swc/2027-01-01/2027-06-30","","",""]
GET ms:{user:ada}:doc =~ ^\{"id":"ada",[^{}]*"passports":\[[^\]]*\],"roles":\{"admin":false,"site_operator":\["cw-namur"\]\}\}$
--- no_error_log
[error]



=== TEST 3: only what is required; the defaults; an admin; an id with every character a sub may have; the longest id
--- http_config eval: $::HTTP
--- config eval: $::API
--- request eval
["PUT /api/v1/admin/users/ada\n{\"name\":\"Ada\",\"email\":\"ada\@example.org\"}",
 "PUT /api/v1/admin/users/auth0|Ada.L_x+1\@ex-1\n{\"name\":\"Ada\",\"email\":\"a\@b\",\"roles\":{\"admin\":true}}",
 "GET /api/v1/admin/users/auth0|Ada.L_x+1\@ex-1",
 "PUT /api/v1/admin/users/" . ("U" x 128) . "\n{\"name\":\"Caf\\u00e9 \xc3\xa9\",\"email\":\"\xc3\xa9t\xc3\xa9\@exemple.be\",\"company\":{\"id\":\"acme\"},\"passports\":[]}"]
--- error_code eval
[201, 201, 200, 201]
--- response_body_json eval
[{id => "ada", name => "Ada", email => 'ada@example.org', passports => [],
  roles => {admin => \0, site_operator => []}},
 {id => 'auth0|Ada.L_x+1@ex-1', name => "Ada", email => 'a@b', passports => [],
  roles => {admin => \1, site_operator => []}},
 {id => 'auth0|Ada.L_x+1@ex-1', name => "Ada", email => 'a@b', passports => [],
  roles => {admin => \1, site_operator => []}},
 {id => "U" x 128, name => "Caf\x{e9} \x{e9}", email => "\x{e9}t\x{e9}\@exemple.be", passports => [],
  company => {id => "acme", zones => [], networks => []},
  roles => {admin => \0, site_operator => []}}]
--- redis_check
HGETALL ms:{user:ada}:info => ["passports","","company","","company_zones","","company_networks","","admin","0","operator_of","","email","ada@example.org"]
HGET ms:{user:auth0|Ada.L_x+1@ex-1}:info admin => 1
EVAL "return redis.call('HGET', 'ms:{user:' .. string.rep('U', 128) .. '}:info', 'company')" 0 => acme
KEYS ms:passports:* => []
--- no_error_log
[error]



=== TEST 4: DELETE: 200, the keys and the index fields go, others' stay; then GET and DELETE are 404
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
"$::SEED\n$::BOB"
--- request eval
["PUT /api/v1/admin/users/ada\n$::TWO",
 "DELETE /api/v1/admin/users/ada", "GET /api/v1/admin/users/ada",
 "DELETE /api/v1/admin/users/ada", "GET /api/v1/admin/users/nobody"]
--- error_code eval
[201, 200, 404, 404, 404]
--- response_body_json eval
[undef, {id => "ada", deleted => \1},
 {error => {code => "not_found", message => "no such account", parameter => "id"}},
 {error => {code => "not_found", message => "no such account", parameter => "id"}},
 {error => {code => "not_found", message => "no such account", parameter => "id"}}]
--- redis_check
EXISTS ms:{user:ada}:doc ms:{user:ada}:info => 0
HGETALL ms:passports:cowallonia => ["bob","2026-01-01/2026-12-31"]
EXISTS ms:passports:swc => 0
--- error_log
mobispot: account "ada" deleted
--- no_error_log
[error]



=== TEST 5: bad bodies: 400 for what is malformed, of a wrong type or missing, 422 for a rule, each naming its field; nothing written
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
$::SEED
--- request eval
[("PUT /api/v1/admin/users/ada") x 56]
--- request_body eval
['',
 '{"name":',
 '[]',
 (map { main::user_with(name => $_) }
  undef, '42', '""', '"' . ('n' x 201) . '"'),
 (map { main::user_with(email => $_) }
  undef, 'true', '"ada.example.org"', '"ada@@example.org"', '"a@b@c"', '"@example.org"',
  '"ada@"', '"ada lovelace@example.org"', '"ada@example.org\t"',
  '"ada@ex\u0085ample.org"', '"ada@' . ('e' x 250) . '.org"'),
 # passports
 (map { main::user_with(passports => $_) }
  '{}',
  '[' . CORE::join(',', map { sprintf '{"network":"cowallonia","from":"20%02d-01-01","to":"20%02d-01-01"}', $_, $_ } 30 .. 46) . ']',
  '["cowallonia"]'),
 (map { main::user_with(passports => '[' . CORE::join(',', map { main::passport(@$_) } @$_) . ']') }
  [[network => undef]], [[network => '7']], [[network => '"Bad Net"']],
  [[network => '"nowhere"']], [[], [network => '"nowhere"']],
  [[from => undef]], [[from => '20261201']], [[from => '"2026-02-30"']],
  [[to => '"2027-13-01"']], [[from => '"2026-12-1"']],
  [[from => '"2026-12-01T00:00:00Z"']], [[from => '"2101-01-01"', to => '"2101-01-02"']],
  [[from => '"2027-12-01"']],
  [[], [from => '"2027-11-30"', to => '"2028-11-30"']],
  [[], [from => '"2027-01-01"', to => '"2027-02-01"']],
  [[price => '1']]),
 # company
 (map { main::user_with(company => $_) }
  '"acme"', '{"zones":[]}', '{"id":"ACME"}', '{"id":"acme","zones":"namur"}',
  '{"id":"acme","zones":["a","a"]}',
  '{"id":"acme","zones":[' . CORE::join(',', map { "\"z$_\"" } 1 .. 33) . ']}',
  '{"id":"acme","networks":["cowallonia","nowhere"]}', '{"id":"acme","networks":[1]}',
  '{"id":"acme","sites":[]}'),
 # roles
 (map { main::user_with(roles => $_) }
  '[]', '{"admin":1}', '{"admin":"true"}', '{"site_operator":"cw-namur"}',
  '{"site_operator":["cw-namur","nowhere"]}',
  '{"site_operator":["cw-namur","cw-namur"]}',
  '{"site_operator":[' . CORE::join(',', map { "\"s$_\"" } 1 .. 65) . ']}',
  '{"owner":true}'),
 # the body
 main::user_with() =~ s/\}$/,"passwd":"x"}/r,
 main::user_with() =~ s/\}$/,"name":"Ada"}/r]
--- error_code eval
[400, 400, 400, 400, 400, 422, 422, 400, 400, 422, 422, 422, 422, 422, 422, 422, 422, 422,
 400, 422, 400, 400, 400, 422, 422, 422, 400, 400, 422, 422, 422, 422, 422, 422, 422, 422, 400,
 400, 400, 422, 400, 422, 422, 422, 400, 400,
 400, 400, 400, 400, 422, 422, 422, 400,
 400, 400]
--- response_body_json_subset eval
[{error => {code => "malformed_json"}},
 {error => {code => "malformed_json"}},
 {error => {code => "invalid_field", message => "the body must be a JSON object"}},
 {error => {code => "invalid_field", field => "name", message => "missing field"}},
 {error => {code => "invalid_field", field => "name", message => "must be a string"}},
 {error => {code => "invalid_value", field => "name"}},
 {error => {code => "invalid_value", field => "name"}},
 {error => {code => "invalid_field", field => "email", message => "missing field"}},
 {error => {code => "invalid_field", field => "email", message => "must be a string"}},
 ({error => {code => "invalid_value", field => "email"}}) x 9,
 {error => {code => "invalid_field", field => "passports", message => "must be an array of passports"}},
 {error => {code => "invalid_value", field => "passports", message => "more than 16 passports"}},
 {error => {code => "invalid_field", field => "passports[0]", message => "must be an object"}},
 {error => {code => "invalid_field", field => "passports[0].network", message => "missing field"}},
 {error => {code => "invalid_field", field => "passports[0].network", message => "must be a string"}},
 {error => {code => "invalid_value", field => "passports[0].network", message => "not a valid network id"}},
 {error => {code => "invalid_value", field => "passports[0].network", message => "unknown network"}},
 {error => {code => "invalid_value", field => "passports[1].network", message => "unknown network"}},
 {error => {code => "invalid_field", field => "passports[0].from", message => "missing field"}},
 {error => {code => "invalid_field", field => "passports[0].from", message => "must be a string"}},
 {error => {code => "invalid_value", field => "passports[0].from"}},
 {error => {code => "invalid_value", field => "passports[0].to"}},
 {error => {code => "invalid_value", field => "passports[0].from"}},
 {error => {code => "invalid_value", field => "passports[0].from"}},
 {error => {code => "invalid_value", field => "passports[0].from"}},
 {error => {code => "invalid_value", field => "passports[0].to", message => "to is before from (both days are included)"}},
 {error => {code => "invalid_value", field => "passports[1]", message => "overlaps another passport of the same network"}},
 {error => {code => "invalid_value", field => "passports[1]", message => "overlaps another passport of the same network"}},
 {error => {code => "invalid_field", field => "passports[0].price", message => "unknown field"}},
 {error => {code => "invalid_field", field => "company", message => "must be an object"}},
 {error => {code => "invalid_field", field => "company.id", message => "missing field"}},
 {error => {code => "invalid_value", field => "company.id", message => "not a valid company id"}},
 {error => {code => "invalid_field", field => "company.zones", message => "must be an array of zone ids"}},
 {error => {code => "invalid_value", field => "company.zones[1]", message => "zone given twice"}},
 {error => {code => "invalid_value", field => "company.zones", message => "more than 32 zones"}},
 {error => {code => "invalid_value", field => "company.networks[1]", message => "unknown network"}},
 {error => {code => "invalid_field", field => "company.networks[0]", message => "must be a string"}},
 {error => {code => "invalid_field", field => "company.sites", message => "unknown field"}},
 {error => {code => "invalid_field", field => "roles", message => "must be an object"}},
 {error => {code => "invalid_field", field => "roles.admin", message => "must be true or false"}},
 {error => {code => "invalid_field", field => "roles.admin", message => "must be true or false"}},
 {error => {code => "invalid_field", field => "roles.site_operator", message => "must be an array of site ids"}},
 {error => {code => "invalid_value", field => "roles.site_operator[1]", message => "unknown site"}},
 {error => {code => "invalid_value", field => "roles.site_operator[1]", message => "site given twice"}},
 {error => {code => "invalid_value", field => "roles.site_operator", message => "more than 64 sites"}},
 {error => {code => "invalid_field", field => "roles.owner", message => "unknown field"}},
 {error => {code => "invalid_field", field => "passwd", message => "unknown field"}},
 {error => {code => "invalid_field", field => "name", message => "field given twice"}}]
--- redis_check eval: $::NOTHING
--- no_error_log
[error]



=== TEST 6: a refused PUT leaves the account as it was; a bad id in the path: PUT 400, GET and DELETE 404; nothing written
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
SET ms:{user:bob}:doc '{"id":"bob"}'
HSET ms:{user:bob}:info passports cowallonia/2026-01-01/2026-12-31
HSET ms:passports:cowallonia bob 2026-01-01/2026-12-31
--- request eval
["PUT /api/v1/admin/users/bob\n" . main::user_with(passports => '[]', roles => '{"site_operator":["nowhere"]}'),
 "PUT /api/v1/admin/users/A{b}\n$::USER", "PUT /api/v1/admin/users/a:b\n$::USER",
 "PUT /api/v1/admin/users/-ada\n$::USER", "PUT /api/v1/admin/users/ada%20x\n$::USER",
 "PUT /api/v1/admin/users/" . ("U" x 129) . "\n$::USER",
 "GET /api/v1/admin/users/A{b}", "GET /api/v1/admin/users/a:b",
 "DELETE /api/v1/admin/users/a:b", "DELETE /api/v1/admin/users/a%7Bb%7D"]
--- error_code eval
[422, 400, 400, 400, 400, 400, 404, 404, 404, 404]
--- response_body_json_subset eval
[{error => {code => "invalid_value", field => "roles.site_operator[0]", message => "unknown site"}},
 ({error => {code => "invalid_id", parameter => "id"}}) x 5,
 ({error => {code => "not_found", parameter => "id"}}) x 4]
--- redis_check
GET ms:{user:bob}:doc => {"id":"bob"}
HGETALL ms:{user:bob}:info => ["passports","cowallonia/2026-01-01/2026-12-31"]
HGETALL ms:passports:cowallonia => ["bob","2026-01-01/2026-12-31"]
EVAL "return #redis.call('KEYS', 'ms:{user:*')" 0 => 2
--- no_error_log
[error]



=== TEST 7: mobispot_admin role=: 401 without a signed-in caller, 403 without the role, for the three routes
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
# $mobispot_roles stands for the SSO module's variable; /none/ has none
CORE::join('', map {
    "    location /$_->[0]/ {\n"
    . (defined $_->[1] ? "        set \$mobispot_roles \"$_->[1]\";\n" : '')
    . "        mobispot_admin role=admin;\n        mobispot_api;\n    }\n"
} ['none'], ['user', 'user site_operator'], ['admin', 'admin'])
--- request eval
["GET /none/admin/users/ada", "PUT /none/admin/users/ada\n$::USER", "DELETE /none/admin/users/ada",
 "GET /user/admin/users/ada", "PUT /user/admin/users/ada\n$::USER", "DELETE /user/admin/users/ada",
 "GET /admin/admin/users/ada", "PUT /admin/admin/users/ada\n{\"name\":\"Ada\",\"email\":\"a\@b\"}"]
--- error_code eval
[401, 401, 401, 403, 403, 403, 404, 201]
--- response_body_json_subset eval
[({error => {code => "unauthenticated"}}) x 3, ({error => {code => "forbidden"}}) x 3,
 {error => {code => "not_found"}}, {id => "ada"}]
--- redis_check
EXISTS ms:{user:ada}:doc => 1



=== TEST 8: the route's methods: others are 405 with Allow; HEAD is GET without a body
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis
SET ms:{user:ada}:doc '{"id":"ada"}'
--- request eval
["POST /api/v1/admin/users/ada\n{}", "PATCH /api/v1/admin/users/ada\n{}", "HEAD /api/v1/admin/users/ada"]
--- error_code eval
[405, 405, 200]
--- response_body_json_subset eval
[{error => {code => "method_not_allowed"}}, {error => {code => "method_not_allowed"}}, undef]
--- response_headers eval
["Allow: GET, HEAD, PUT, DELETE", "Allow: GET, HEAD, PUT, DELETE", undef]
--- redis_check
GET ms:{user:ada}:doc => {"id":"ada"}



=== TEST 9: a write or a DELETE whose transaction Redis refuses (out of memory): 502, the account and its index as they were
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
$::SEED
--- request eval
["PUT /api/v1/admin/users/ada\n$::USER",
 "PUT /api/v1/admin/users/ada\n"
 . main::user_with(passports => '[{"network":"swc","from":"2026-07-01","to":"2026-12-31"}]'),
 "DELETE /api/v1/admin/users/ada",
 "GET /api/v1/admin/users/ada"]
--- before_request eval
["", "redis CONFIG SET maxmemory-policy noeviction\nredis CONFIG SET maxmemory 1",
 "", "redis CONFIG SET maxmemory 0"]
--- error_code eval
[201, 502, 502, 200]
--- response_body_json_subset eval
[{id => "ada"}, {error => {code => "redis_error"}}, {error => {code => "redis_error"}},
 {passports => [{network => "cowallonia"}]}]
--- redis_check
CONFIG SET maxmemory 0 => OK
HGET ms:{user:ada}:info passports => cowallonia/2026-12-01/2027-11-30
HGETALL ms:passports:cowallonia => ["ada","2026-12-01/2027-11-30"]
EXISTS ms:passports:swc => 0



=== TEST 10: an error inside EXEC (an info that is not a hash): 502 and no index; Redis keeps the commands that ran (no rollback)
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
$::SEED . "\n" . 'SET ms:{user:ada}:info not-a-hash'
--- request eval
"PUT /api/v1/admin/users/ada\n$::USER"
--- error_code: 502
--- response_body_json_subset eval
{error => {code => "redis_error"}}
--- redis_check
GET ms:{user:ada}:info => not-a-hash
GET ms:{user:ada}:doc =~ ^\{"id":"ada",
EXISTS ms:passports:cowallonia => 0
--- error_log
mobispot: unexpected redis reply to an account write



=== TEST 11: a PUT does not repair an info that is not a hash (it keeps the info's other fields, the password's hash); a DELETE does, and the PUT after it writes the index
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
$::SEED . "\n" . 'SET ms:{user:ada}:info not-a-hash'
--- request eval
["PUT /api/v1/admin/users/ada\n$::USER", "PUT /api/v1/admin/users/ada\n$::USER",
 "DELETE /api/v1/admin/users/ada", "PUT /api/v1/admin/users/ada\n$::USER"]
--- error_code eval
[502, 502, 502, 201]
--- redis_check
HGETALL ms:passports:cowallonia => ["ada","2026-12-01/2027-11-30"]



=== TEST 12: an info written by hand (words, blanks, bad ids): the replaced passports' networks are read word by word, bad ones skipped
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
"$::SEED\n" . 'HSET ms:{user:ada}:info passports "a b c d e f g h i j,,, Bad{x}/1/2,swc/2026-01-01/2026-02-01 swc"'
. "\nHSET ms:passports:swc ada 2026-01-01/2026-02-01 bob 2026-01-01/2026-12-31\nHSET ms:passports:j ada x"
--- request eval
"PUT /api/v1/admin/users/ada\n$::USER"
--- error_code: 200
--- redis_check
HGETALL ms:passports:swc => ["bob","2026-01-01/2026-12-31"]
EXISTS ms:passports:j => 0
HGETALL ms:passports:cowallonia => ["ada","2026-12-01/2027-11-30"]
--- no_error_log
[error]



=== TEST 13: an email is one account's: another account's PUT of it (in any case) is 409 email_taken naming the field, nothing written; an index left behind (its account holds another email now) does not stop the write, which takes it over
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
$::SEED . "\nSET ms:{email:$::ADA_SHA} ghost\nHSET ms:{user:ghost}:info email ghost\@example.org"
--- request eval
["PUT /api/v1/admin/users/ada\n$::USER",
 "PUT /api/v1/admin/users/bob\n" . ($::USER =~ s/ada\@example/ADA\@Example/r),
 "PUT /api/v1/admin/users/ada\n$::USER", "GET /api/v1/admin/users/bob"]
--- error_code eval
[201, 409, 200, 404]
--- response_body_like eval
[qr/"id":"ada"/, qr/^\{"error":\{"code":"email_taken","message":"another account has this email","field":"email"\}\}$/,
 qr/"id":"ada"/, qr/"not_found"/]
--- redis_check eval
"GET ms:{email:$::ADA_SHA} => ada\nEXISTS ms:{user:bob}:info => 0\nEXISTS ms:{user:bob}:doc => 0\nHGETALL ms:passports:cowallonia => [\"ada\",\"2026-12-01/2027-11-30\"]"
--- no_error_log
[error]
