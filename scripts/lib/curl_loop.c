/* The bare libcurl reference for scripts/bench: the same transfers Herald makes, over the same
 * libcurl multi interface and the same number of reused connections, with no database, no
 * rendering and no bookkeeping. It tells what libcurl itself allows, between Herald and the
 * protocol's limit (smtp-source -d, wrk).
 *
 *   curl_loop smtp URL FROM N CONNECTIONS MESSAGE_FILE   one message to N recipients, one transaction each
 *   curl_loop http URL N CONNECTIONS BODY_FILE           N POSTs of the body
 *
 * Prints "<transfers> <seconds> <failures>" on one line.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct transfer {
    CURL *easy;
    const char *data;
    size_t length, offset;
    struct curl_slist *list;
    char recipient[64];
};

static const char *payload;
static size_t payload_length;

static size_t read_body(char *buffer, size_t size, size_t count, void *userdata) {
    struct transfer *t = userdata;
    size_t left = t->length - t->offset, n = size * count < left ? size * count : left;
    memcpy(buffer, t->data + t->offset, n);
    t->offset += n;
    return n;
}

static size_t discard(char *buffer, size_t size, size_t count, void *userdata) {
    (void)buffer; (void)userdata;
    return size * count;
}

static char *slurp(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *length = (size_t)ftell(f);
    rewind(f);
    char *data = malloc(*length + 1);
    if (fread(data, 1, *length, f) != *length) { perror(path); exit(2); }
    fclose(f);
    return data;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int smtp = argc == 7 && strcmp(argv[1], "smtp") == 0, http = argc == 6 && strcmp(argv[1], "http") == 0;
    if (!smtp && !http) {
        fprintf(stderr, "usage: curl_loop smtp URL FROM N CONNECTIONS FILE | curl_loop http URL N CONNECTIONS FILE\n");
        return 2;
    }
    const char *url = argv[2], *from = smtp ? argv[3] : NULL;
    long total = atol(argv[smtp ? 4 : 3]), connections = atol(argv[smtp ? 5 : 4]);
    payload = slurp(argv[smtp ? 6 : 5], &payload_length);

    curl_global_init(CURL_GLOBAL_ALL);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, connections);
    /* As many transfers in libcurl's hands as connections, as Herald's engine hands it: more
     * only wait inside libcurl for a connection, which costs it more than it saves. */
    enum { IN_FLIGHT = 256 };
    if (connections < 1 || connections > IN_FLIGHT) { fprintf(stderr, "1 to %d connections\n", IN_FLIGHT); return 2; }
    struct transfer transfers[IN_FLIGHT];
    struct transfer *idle[IN_FLIGHT];
    int idle_count = 0;
    char mail_from[300];
    snprintf(mail_from, sizeof mail_from, "<%s>", from ? from : "");
    for (int i = 0; i < connections; i++) {
        struct transfer *t = &transfers[i];
        memset(t, 0, sizeof *t);
        t->easy = curl_easy_init();
        curl_easy_setopt(t->easy, CURLOPT_URL, url);
        curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
        curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
        if (smtp) {
            curl_easy_setopt(t->easy, CURLOPT_MAIL_FROM, mail_from);
            curl_easy_setopt(t->easy, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, read_body);
            curl_easy_setopt(t->easy, CURLOPT_READDATA, t);
            curl_easy_setopt(t->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)payload_length);
        } else {
            t->list = curl_slist_append(NULL, "Content-Type: application/json");
            t->list = curl_slist_append(t->list, "Expect:");
            curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->list);
            curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, payload);
            curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_length);
        }
        idle[idle_count++] = t;
    }

    long started = 0, finished = 0, failures = 0;
    double begin = now();
    while (finished < total) {
        while (idle_count > 0 && started < total) {
            struct transfer *t = idle[--idle_count];
            if (smtp) {
                /* Each message to its own recipient, as Herald sends them. */
                snprintf(t->recipient, sizeof t->recipient, "<contact%ld@org%ld.example>", started, started);
                curl_slist_free_all(t->list);
                t->list = curl_slist_append(NULL, t->recipient);
                curl_easy_setopt(t->easy, CURLOPT_MAIL_RCPT, t->list);
                t->data = payload;
                t->length = payload_length;
                t->offset = 0;
            }
            curl_multi_add_handle(multi, t->easy);
            started++;
        }
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        int queued, ended = 0;
        while ((message = curl_multi_info_read(multi, &queued))) {
            if (message->msg != CURLMSG_DONE) continue;
            struct transfer *t;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            long status = 0;
            curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            /* A transfer counts only when the peer took it: 2xx for HTTP, 250 after the message for SMTP. */
            if (message->data.result != CURLE_OK || (http && (status < 200 || status > 299))) failures++;
            curl_multi_remove_handle(multi, message->easy_handle);
            idle[idle_count++] = t;
            finished++;
            ended++;
        }
        /* An ended transfer frees a handle: start the next before waiting on the sockets. */
        if (!ended && finished < total) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    double seconds = now() - begin;
    printf("%ld %.4f %ld\n", finished, seconds, failures);
    return failures ? 1 : 0;
}
