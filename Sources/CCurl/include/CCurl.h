#ifndef HERALD_CCURL_H
#define HERALD_CCURL_H

#include <curl/curl.h>
// The engine waits on its connections by epoll, which Swift's Glibc module leaves out.
#include <sys/epoll.h>

// Typed wrappers: Swift cannot call C variadic functions, and CURLVERSION_NOW is a macro.

CURLcode herald_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode herald_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode herald_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode herald_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode herald_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

typedef size_t (*herald_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
CURLcode herald_curl_easy_setopt_callback(CURL *handle, CURLoption option, herald_curl_data_callback callback);

CURLcode herald_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode herald_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode herald_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

curl_version_info_data *herald_curl_version_info(void);

#endif

#ifndef HERALD_CCURL_SSRF
#define HERALD_CCURL_SSRF
// Installs an open-socket callback that refuses loopback, private, link-local, multicast and
// other non-public addresses, after name resolution (so a name that resolves there is refused
// too, and DNS rebinding cannot slip past a check made earlier). `refused` is set to 1 when
// an address was refused, so the caller can tell this from an ordinary connection failure.
CURLcode herald_curl_refuse_private_targets(CURL *handle, int *refused);
// Removes that callback again (a reused handle may go to a private target when allowed).
CURLcode herald_curl_allow_private_targets(CURL *handle);
#endif

#ifndef HERALD_CCURL_SMTP
#define HERALD_CCURL_SMTP
// The socket of a CONNECT_ONLY connection (CURLINFO_ACTIVESOCKET), -1 when there is none.
int herald_curl_active_socket(CURL *handle);
// Watches the SMTP conversation libcurl holds while it connects (greeting, STARTTLS, EHLO,
// AUTH): `*pipelining` is 1 when the last EHLO reply offered PIPELINING (RFC 2920). Turns on
// libcurl's debug callback, which sees the lines libcurl sends, AUTH's included; it keeps
// nothing but that flag. Call herald_curl_stop_watching once connected.
CURLcode herald_curl_watch_ehlo(CURL *handle, int *pipelining);
void herald_curl_stop_watching(CURL *handle);
#endif
