
/*
 * Copyright (C) Mobispot
 *
 * auth_delay for the module's own refusals (see ngx_http_mobispot_delay.c).
 */


#ifndef _NGX_HTTP_MOBISPOT_DELAY_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_DELAY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_mobispot_auth_delay(ngx_http_request_t *r,
    ngx_http_event_handler_pt answer);
ngx_uint_t ngx_http_mobispot_auth_delaying(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MOBISPOT_DELAY_H_INCLUDED_ */
