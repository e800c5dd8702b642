
/*
 * Copyright (C) Mobispot
 *
 * The check of an account body (PUT {prefix}admin/users/{id}): each field
 * in turn, generating as it goes the account document as stored and the
 * fields of its info hash (docs/data-model.md, "Accounts").  The networks
 * and sites it names are only collected here: whether they exist is asked
 * of Redis before the write (ngx_http_mobispot_admin_user.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_secret.h"
#include "spots/ngx_http_mobispot_admin.h"


#define NGX_HTTP_MOBISPOT_EMAIL_MAX  254


static ngx_int_t ngx_http_mobispot_check_email(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_str_t *email);
static ngx_int_t ngx_http_mobispot_check_passports(
    ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_account_t *ac, yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_passport(
    ngx_http_mobispot_check_t *ck, yajl_val e, size_t i,
    ngx_http_mobispot_passport_t *pp);
static ngx_int_t ngx_http_mobispot_check_company(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_http_mobispot_account_t *ac, yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_roles(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_http_mobispot_account_t *ac, yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_object(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, const char **known);
static ngx_int_t ngx_http_mobispot_check_limit(ngx_http_mobispot_check_t *ck,
    yajl_val obj, const char *name, const char *field,
    const ngx_http_mobispot_ids_rule_t *rule, yajl_gen doc, ngx_str_t *list);
static void ngx_http_mobispot_user_named(ngx_http_mobispot_account_t *ac,
    ngx_uint_t list, const char *id, const char *field, size_t index);
static void ngx_http_mobispot_user_named_all(ngx_http_mobispot_account_t *ac,
    ngx_uint_t list, yajl_val v, const char *field);
static ngx_int_t ngx_http_mobispot_user_passports_info(ngx_http_request_t *r,
    ngx_http_mobispot_account_t *ac);


static const ngx_http_mobispot_ids_rule_t  ngx_http_mobispot_user_zones = {
    NGX_HTTP_MOBISPOT_LIMITS_MAX,
    "must be an array of zone ids",
    "more than 32 zones",
    "not a valid zone id",
    "zone given twice"
};


static const ngx_http_mobispot_ids_rule_t  ngx_http_mobispot_user_networks = {
    NGX_HTTP_MOBISPOT_LIMITS_MAX,
    "must be an array of network ids",
    "more than 32 networks",
    "not a valid network id",
    "network given twice"
};


static const ngx_http_mobispot_ids_rule_t  ngx_http_mobispot_user_sites = {
    NGX_HTTP_MOBISPOT_OPERATOR_MAX,
    "must be an array of site ids",
    "more than 64 sites",
    "not a valid site id",
    "site given twice"
};


/*
 * Checks an account body and generates, as it goes, the account document
 * as stored (doc) and the fields of its info hash (ac).  NGX_DECLINED: ck
 * holds the error; NGX_ERROR: out of memory.
 *
 * {"name":"Ada Lovelace","email":"ada@example.org",
 *  "passports":[{"network":"cowallonia","from":"2026-12-01",
 *                "to":"2027-11-30"}],
 *  "company":{"id":"acme","zones":["namur-province"],
 *             "networks":["cowallonia"]},
 *  "roles":{"admin":false,"site_operator":["cw-namur"]},
 *  "password":"correct horse battery staple"}
 */

ngx_int_t
ngx_http_mobispot_check_user(ngx_http_mobispot_check_t *ck, yajl_val body,
    ngx_http_mobispot_admin_t *ad, yajl_gen doc)
{
    ngx_int_t                     rc;
    ngx_str_t                     name, email;
    ngx_uint_t                    i;
    ngx_http_mobispot_account_t  *ac;

    static const char  *known[] = {
        "name", "email", "passports", "company", "roles", "password", NULL
    };

    ac = &ad->account;

    for (i = 0; i < NGX_HTTP_MOBISPOT_USER_FIELDS; i++) {
        ngx_str_set(&ac->info[i], "");
    }

    rc = ngx_http_mobispot_check_keys(ck, body, "", known);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mobispot_check_string(ck, mobispot_json_member(body, "name"),
                                       "name", 200, &name)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_mobispot_check_email(ck, mobispot_json_member(body, "email"),
                                       &email);
    if (rc != NGX_OK) {
        return rc;
    }

    ac->email = email;

    if (yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", &ad->id) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "name", &name) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "email", &email) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mobispot_check_passports(ck,
                                           mobispot_json_member(body,
                                                                "passports"),
                                           ac, doc);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mobispot_check_company(ck,
                                         mobispot_json_member(body, "company"),
                                         ac, doc);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mobispot_check_roles(ck, mobispot_json_member(body, "roles"),
                                       ac, doc);
    if (rc != NGX_OK) {
        return rc;
    }

    /*
     * write-only, never in the document: absent, the write keeps the
     * stored hash
     */

    rc = ngx_http_mobispot_check_secret(ck,
                                        mobispot_json_member(body,
                                                             "password"),
                                        "password", MOBISPOT_PASSWORD_MIN,
                                        MOBISPOT_PASSWORD_MAX,
                                        "a password is 12 to 256 bytes of "
                                        "UTF-8, without NUL", &ac->password);
    if (rc != NGX_OK) {
        return rc;
    }

    if (yajl_gen_map_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_user_passports_info(ck->request, ac);
}


/*
 * A plain syntactic check, no more (the address is not mailed): at most
 * 254 bytes, exactly one "@" with something before and after it, and no
 * blank nor control character (bytes 0x00-0x20 and 0x7f, U+0080-U+00A0).
 * The body's check has made it well-formed UTF-8.
 */

static ngx_int_t
ngx_http_mobispot_check_email(ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_str_t *email)
{
    u_char  *p, *last, *at;

    if (ngx_http_mobispot_check_string(ck, v, "email",
                                       NGX_HTTP_MOBISPOT_EMAIL_MAX, email)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    at = NULL;
    last = email->data + email->len;

    for (p = email->data; p < last; p++) {

        if (*p <= 0x20 || *p == 0x7f
            || (*p == 0xc2 && p + 1 < last && p[1] <= 0xa0))
        {
            at = NULL;
            break;
        }

        if (*p == '@') {
            if (at != NULL) {
                at = NULL;
                break;
            }

            at = p;
        }
    }

    if (email->len > NGX_HTTP_MOBISPOT_EMAIL_MAX || at == NULL
        || at == email->data || at == last - 1)
    {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "not an e-mail address: one "
                                            "\"@\" between two non-empty "
                                            "parts, no blank, at most 254 "
                                            "bytes", "email");
    }

    return NGX_OK;
}


/*
 * "passports": optional, up to 16, each {"network","from","to"}; two of
 * one network may not overlap.  Stored sorted by network, then from.
 */

static ngx_int_t
ngx_http_mobispot_check_passports(ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_account_t *ac, yajl_gen doc)
{
    u_char                         date[MOBISPOT_DATE_LEN];
    size_t                         i, j;
    ngx_int_t                      rc;
    ngx_http_mobispot_passport_t   pp, *q;

    if (v != NULL
        && ngx_http_mobispot_check_array(ck, v, "passports",
                                         "must be an array of passports", 0,
                                         NGX_HTTP_MOBISPOT_PASSPORTS_MAX,
                                         "more than 16 passports")
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    for (i = 0; v != NULL && i < v->u.array.len; i++) {
        rc = ngx_http_mobispot_check_passport(ck, v->u.array.values[i], i,
                                              &pp);
        if (rc != NGX_OK) {
            return rc;
        }

        /* inserted in order; the same network's may not overlap */

        for (j = ac->npassports; j > 0; j--) {
            q = &ac->passports[j - 1];

            if (q->network.len == pp.network.len
                && ngx_strcmp(q->network.data, pp.network.data) == 0
                && q->from <= pp.to && pp.from <= q->to)
            {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "overlaps another passport "
                                                "of the same network",
                                                "passports[%uz]%Z", i);
            }
        }

        for (j = ac->npassports; j > 0; j--) {
            q = &ac->passports[j - 1];
            rc = ngx_strcmp(q->network.data, pp.network.data);

            if (rc < 0 || (rc == 0 && q->from < pp.from)) {
                break;
            }

            ac->passports[j] = *q;
        }

        ac->passports[j] = pp;
        ac->npassports++;

        ngx_http_mobispot_user_named(ac, NGX_HTTP_MOBISPOT_NAMED_NETWORKS,
                                     (char *) pp.network.data,
                                     "passports[%uz].network", i);
    }

    if (mobispot_json_string(doc, "passports") != MOBISPOT_OK
        || yajl_gen_array_open(doc) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < ac->npassports; i++) {
        q = &ac->passports[i];

        if (yajl_gen_map_open(doc) != yajl_gen_status_ok
            || ngx_http_mobispot_gen_str(doc, "network", &q->network)
               != NGX_OK
            || mobispot_json_string(doc, "from") != MOBISPOT_OK
            || yajl_gen_string(doc, date,
                               mobispot_format_date(q->from, (char *) date))
               != yajl_gen_status_ok
            || mobispot_json_string(doc, "to") != MOBISPOT_OK
            || yajl_gen_string(doc, date,
                               mobispot_format_date(q->to, (char *) date))
               != yajl_gen_status_ok
            || yajl_gen_map_close(doc) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }
    }

    if (yajl_gen_array_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* passports[i]: {"network": id, "from": date, "to": date}, from <= to */

static ngx_int_t
ngx_http_mobispot_check_passport(ngx_http_mobispot_check_t *ck, yajl_val e,
    size_t i, ngx_http_mobispot_passport_t *pp)
{
    u_char      field[64], *p;
    int64_t     days[2];
    ngx_str_t   s;
    ngx_int_t   rc;
    ngx_uint_t  k;

    static const char  *known[] = { "network", "from", "to", NULL };

    p = ngx_sprintf(field, "passports[%uz]%Z", i) - 1;

    rc = ngx_http_mobispot_check_object(ck, e, (char *) field, known);
    if (rc != NGX_OK) {
        return rc;
    }

    *p++ = '.';

    ngx_sprintf(p, "network%Z");

    if (ngx_http_mobispot_check_string(ck, mobispot_json_member(e, "network"),
                                       (char *) field, MOBISPOT_ID_MAX,
                                       &pp->network)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (!mobispot_id_valid((char *) pp->network.data, pp->network.len)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "not a valid network id", "%s",
                                            field);
    }

    for (k = 0; k < 2; k++) {
        ngx_sprintf(p, "%s%Z", k ? "to" : "from");

        if (ngx_http_mobispot_check_string(ck,
                                           mobispot_json_member(e,
                                                        k ? "to" : "from"),
                                           (char *) field, 64, &s)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        if (mobispot_parse_date((char *) s.data, s.len, &days[k])
            != MOBISPOT_OK)
        {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "must be a date YYYY-MM-DD "
                                                "from 1970 to 2100", "%s",
                                                field);
        }
    }

    if (days[0] > days[1]) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "to is before from (both days "
                                            "are included)", "%s", field);
    }

    pp->from = days[0];
    pp->to = days[1];

    return NGX_OK;
}


/*
 * "company": optional, {"id": id, "zones": [ids], "networks": [ids]};
 * zones and networks empty or absent: not limited.
 */

static ngx_int_t
ngx_http_mobispot_check_company(ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_account_t *ac, yajl_gen doc)
{
    ngx_int_t   rc;
    ngx_str_t  *id;

    static const char  *known[] = { "id", "zones", "networks", NULL };

    if (v == NULL) {
        return NGX_OK;
    }

    rc = ngx_http_mobispot_check_object(ck, v, "company", known);
    if (rc != NGX_OK) {
        return rc;
    }

    id = &ac->info[NGX_HTTP_MOBISPOT_USER_COMPANY];

    if (ngx_http_mobispot_check_string(ck, mobispot_json_member(v, "id"),
                                       "company.id", MOBISPOT_ID_MAX, id)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (!mobispot_id_valid((char *) id->data, id->len)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "not a valid company id",
                                            "company.id");
    }

    if (mobispot_json_string(doc, "company") != MOBISPOT_OK
        || yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mobispot_check_limit(ck, v, "zones", "company.zones",
                                       &ngx_http_mobispot_user_zones, doc,
                                       &ac->info[NGX_HTTP_MOBISPOT_USER_ZONES]);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mobispot_check_limit(ck, v, "networks", "company.networks",
                                       &ngx_http_mobispot_user_networks, doc,
                                    &ac->info[NGX_HTTP_MOBISPOT_USER_NETWORKS]);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_mobispot_user_named_all(ac, NGX_HTTP_MOBISPOT_NAMED_NETWORKS,
                                     mobispot_json_member(v, "networks"),
                                     "company.networks[%uz]");

    if (yajl_gen_map_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "roles": optional, {"admin": boolean, "site_operator": [site ids]} */

static ngx_int_t
ngx_http_mobispot_check_roles(ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_account_t *ac, yajl_gen doc)
{
    int         admin;
    yajl_val    a;
    ngx_int_t   rc;

    static const char  *known[] = { "admin", "site_operator", NULL };

    if (v != NULL) {
        rc = ngx_http_mobispot_check_object(ck, v, "roles", known);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    a = v ? mobispot_json_member(v, "admin") : NULL;

    if (a != NULL && !YAJL_IS_TRUE(a) && !YAJL_IS_FALSE(a)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be true or false",
                                            "roles.admin");
    }

    admin = (a != NULL && YAJL_IS_TRUE(a));

    if (admin) {
        ngx_str_set(&ac->info[NGX_HTTP_MOBISPOT_USER_ADMIN], "1");

    } else {
        ngx_str_set(&ac->info[NGX_HTTP_MOBISPOT_USER_ADMIN], "0");
    }

    if (mobispot_json_string(doc, "roles") != MOBISPOT_OK
        || yajl_gen_map_open(doc) != yajl_gen_status_ok
        || mobispot_json_string(doc, "admin") != MOBISPOT_OK
        || yajl_gen_bool(doc, admin) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mobispot_check_limit(ck, v, "site_operator",
                                       "roles.site_operator",
                                       &ngx_http_mobispot_user_sites, doc,
                                 &ac->info[NGX_HTTP_MOBISPOT_USER_OPERATOR_OF]);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_mobispot_user_named_all(ac, NGX_HTTP_MOBISPOT_NAMED_SITES,
                                     v ? mobispot_json_member(v,
                                                              "site_operator")
                                       : NULL,
                                     "roles.site_operator[%uz]");

    if (yajl_gen_map_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* an object (400 otherwise) of the known members only */

static ngx_int_t
ngx_http_mobispot_check_object(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, const char **known)
{
    u_char  prefix[64];

    if (!YAJL_IS_OBJECT(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be an object", "%s", field);
    }

    ngx_sprintf(prefix, "%s.%Z", field);

    return ngx_http_mobispot_check_keys(ck, v, (char *) prefix, known);
}


/*
 * An optional array of ids, member name of obj (which may be NULL): its
 * member in doc, an empty array when it is absent.
 */

static ngx_int_t
ngx_http_mobispot_check_limit(ngx_http_mobispot_check_t *ck, yajl_val obj,
    const char *name, const char *field,
    const ngx_http_mobispot_ids_rule_t *rule, yajl_gen doc, ngx_str_t *list)
{
    yajl_val  v;

    v = obj ? mobispot_json_member(obj, name) : NULL;

    if (mobispot_json_string(doc, name) != MOBISPOT_OK) {
        return NGX_ERROR;
    }

    if (v == NULL) {
        ngx_str_set(list, "");

        if (yajl_gen_array_open(doc) != yajl_gen_status_ok
            || yajl_gen_array_close(doc) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return ngx_http_mobispot_check_ids(ck, v, field, rule, doc, list);
}


/* an id that Redis must know, and the field that names it */

static void
ngx_http_mobispot_user_named(ngx_http_mobispot_account_t *ac, ngx_uint_t list,
    const char *id, const char *field, size_t index)
{
    ngx_http_mobispot_named_t  *named;

    named = &ac->named[list][ac->nnamed[list]++];

    named->id = id;
    named->field = field;
    named->index = index;
}


/* the same for each id of a checked array (or none: NULL) */

static void
ngx_http_mobispot_user_named_all(ngx_http_mobispot_account_t *ac,
    ngx_uint_t list, yajl_val v, const char *field)
{
    size_t  i;

    for (i = 0; v != NULL && i < v->u.array.len; i++) {
        ngx_http_mobispot_user_named(ac, list, v->u.array.values[i]->u.string,
                                     field, i);
    }
}


/*
 * The info's passports: "network/from/to" of each, comma-separated, in
 * their order (by network, then from).
 */

static ngx_int_t
ngx_http_mobispot_user_passports_info(ngx_http_request_t *r,
    ngx_http_mobispot_account_t *ac)
{
    u_char                        *p;
    size_t                         len;
    ngx_uint_t                     i;
    ngx_str_t                     *s;
    ngx_http_mobispot_passport_t  *q;

    len = 0;

    for (i = 0; i < ac->npassports; i++) {
        len += ac->passports[i].network.len + 2 * (MOBISPOT_DATE_LEN + 1) + 1;
    }

    s = &ac->info[NGX_HTTP_MOBISPOT_USER_PASSPORTS];

    s->data = ngx_pnalloc(r->pool, len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    p = s->data;

    for (i = 0; i < ac->npassports; i++) {
        q = &ac->passports[i];

        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, q->network.data, q->network.len);
        *p++ = '/';
        p += mobispot_format_date(q->from, (char *) p);
        *p++ = '/';
        p += mobispot_format_date(q->to, (char *) p);
    }

    s->len = p - s->data;

    return NGX_OK;
}

