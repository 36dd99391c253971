#include "CCurl.h"

CURLcode herald_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode herald_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode herald_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode herald_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode herald_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode herald_curl_easy_setopt_callback(CURL *handle, CURLoption option, herald_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode herald_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode herald_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLMcode herald_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

curl_version_info_data *herald_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int herald_ipv4_is_private(uint32_t host) {
    uint8_t a = host >> 24, b = (host >> 16) & 0xFF, c = (host >> 8) & 0xFF;
    return a == 0 || a == 10 || a == 127 || (a == 100 && b >= 64 && b <= 127) || (a == 169 && b == 254) ||
           (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168) ||
           (a == 192 && b == 0 && (c == 0 || c == 2)) ||        // 192.0.0.0/24 IETF, 192.0.2.0/24 documentation
           (a == 198 && (b == 18 || b == 19)) || a >= 224;
}

static uint32_t herald_ipv4_at(const uint8_t *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static int herald_address_is_private(const struct sockaddr *address) {
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        return herald_ipv4_is_private(ntohl(in->sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        const uint8_t *b = in6->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        static const uint8_t compatible[12] = {0};
        static const uint8_t nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
        // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d, which also covers
        // :: and ::1), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::): judged as the IPv4 address.
        if (memcmp(b, mapped, 12) == 0 || memcmp(b, compatible, 12) == 0 || memcmp(b, nat64, 12) == 0) {
            return herald_ipv4_is_private(herald_ipv4_at(b + 12));
        }
        if (b[0] == 0x20 && b[1] == 0x02) return herald_ipv4_is_private(herald_ipv4_at(b + 2));
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4] == 0 && b[5] == 1) return 1;   // 64:ff9b:1::/48 local NAT64
        if ((b[0] & 0xFE) == 0xFC) return 1;                   // fc00::/7 unique local
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return 1;   // fe80::/10 link-local
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return 1;   // fec0::/10 site-local (deprecated, still routed by some)
        if (b[0] == 0xFF) return 1;                            // multicast
        return 0;
    }
    return 1;
}

static curl_socket_t herald_open_public_socket(void *client, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)purpose;
    if (herald_address_is_private(&address->addr)) {
        if (client) *(int *)client = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

CURLcode herald_curl_refuse_private_targets(CURL *handle, int *refused) {
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, refused);
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, herald_open_public_socket);
}

CURLcode herald_curl_allow_private_targets(CURL *handle) {
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, NULL);
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, NULL);
}

int herald_curl_active_socket(CURL *handle) {
    curl_socket_t socket = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(handle, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK) return -1;
    return socket == CURL_SOCKET_BAD ? -1 : (int)socket;
}

static int herald_ehlo_watcher(CURL *handle, curl_infotype type, char *data, size_t size, void *client) {
    (void)handle;
    int *pipelining = client;
    // A new EHLO (after STARTTLS the relay may offer other things) starts the list afresh.
    if (type == CURLINFO_HEADER_OUT && size >= 4 && strncasecmp(data, "EHLO", 4) == 0) *pipelining = 0;
    if (type == CURLINFO_HEADER_IN && size >= 14 && (data[3] == '-' || data[3] == ' ') &&
        strncasecmp(data, "250", 3) == 0 && strncasecmp(data + 4, "PIPELINING", 10) == 0 &&
        (size == 14 || data[14] == '\r' || data[14] == '\n' || data[14] == ' '))
        *pipelining = 1;
    return 0;
}

CURLcode herald_curl_watch_ehlo(CURL *handle, int *pipelining) {
    curl_easy_setopt(handle, CURLOPT_DEBUGDATA, pipelining);
    curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, herald_ehlo_watcher);
    return curl_easy_setopt(handle, CURLOPT_VERBOSE, 1L);
}

void herald_curl_stop_watching(CURL *handle) {
    curl_easy_setopt(handle, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, NULL);
    curl_easy_setopt(handle, CURLOPT_DEBUGDATA, NULL);
}
