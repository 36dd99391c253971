/*
 * Measures the two OpenPGP library candidates for Herald (librnp's FFI and GPGME) on Herald's
 * job: encrypt-and-sign one personalised ~2 KB UTF-8 text per recipient, to that recipient's
 * public key, signed by the project's Ed25519 key, ASCII-armored.
 *
 * Driven by scripts/openpgp-candidates, which generates the throw-away keys, compiles this file
 * (gcc -O2 ... $(pkg-config --cflags --libs librnp gpgme) -lpthread) and checks the sampled
 * outputs with gpg and sqop. Two modes:
 *
 *   openpgp_candidates bench --recipients FILE --pubkeys FILE --seckey FILE --signer FPR
 *       --gnupghome DIR [--gnupghome-nolock DIR] --samples DIR [--messages N] [--threads T]
 *       [--sample-count S] [--seed X] [--libs rnp,gpgme] [--wait-idle SECONDS] [--retries K]
 *     FILE of recipients: one "cv25519|rsa3072 FINGERPRINT EMAIL" a line. Prints a table and
 *     machine-readable "LOAD"/"RESULT" lines (tab-separated), writes sampled messages and
 *     their plaintexts plus samples/manifest.tsv for the interoperability check.
 *
 *   openpgp_candidates selftest --seckey FILE --signer FPR --out DIR
 *     Exercises the librnp calls Herald will need beyond encrypt+sign (key inspection, key
 *     generation two ways, expiry and revocation, a detached armored signature, armored
 *     public-key export) and writes their products to DIR for the script to check with gpg
 *     and sqop.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <gpgme.h>
#include <inttypes.h>
#include <locale.h>
#include <pthread.h>
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("openpgp_candidates: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Every librnp call returns rnp_result_t; RNP_SUCCESS (0) is success. */
#define RNP_CHECK(call)                                                                      \
    do {                                                                                     \
        rnp_result_t rc_ = (call);                                                           \
        if (rc_ != RNP_SUCCESS)                                                              \
            die("%s:%d: %s -> 0x%08x (%s)", __FILE__, __LINE__, #call, (unsigned) rc_,       \
                rnp_result_to_string(rc_));                                                  \
    } while (0)

#define GPGME_CHECK(call)                                                                    \
    do {                                                                                     \
        gpgme_error_t e_ = (call);                                                           \
        if (e_)                                                                              \
            die("%s:%d: %s -> %s (%s)", __FILE__, __LINE__, #call, gpgme_strerror(e_),       \
                gpgme_strsource(e_));                                                        \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user+sys) of this process and of its reaped children (gpg processes). */
static void cpu_s(double *self, double *children)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *self = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
            ru.ru_stime.tv_usec / 1e6;
    getrusage(RUSAGE_CHILDREN, &ru);
    *children = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                ru.ru_stime.tv_usec / 1e6;
}

static double rss_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (double) sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
static double machine_busy_s(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
        v[0] = v[1] = v[2] = v[5] = v[6] = v[7] = 0;
    if (f)
        fclose(f);
    /* user nice system idle iowait irq softirq steal */
    return (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double) sysconf(_SC_CLK_TCK);
}

/* CPU seconds used so far by process `pid` (0 -> 0). */
static double process_cpu_s(long pid)
{
    if (pid <= 0)
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

/* The gpg-agent serving GNUPGHOME `home` (GPGME's gpg processes hand it every signature). */
static long find_agent(const char *home)
{
    DIR *proc = opendir("/proc");
    struct dirent *de;
    long found = 0;
    while (proc && !found && (de = readdir(proc))) {
        char path[300], cmd[4096];
        if (!isdigit((unsigned char) de->d_name[0]))
            continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        cmd[n] = 0;
        cmd[n ? n - 1 : 0] = 0;
        /* argv is NUL-separated: "gpg-agent", "--homedir", HOME, ... */
        const char *a1 = cmd + strlen(cmd) + 1, *a2 = a1 < cmd + n ? a1 + strlen(a1) + 1 : a1;
        if (n && strstr(cmd, "gpg-agent") && a2 < cmd + n && !strcmp(a1, "--homedir") &&
            !strcmp(a2, home))
            found = atol(de->d_name);
    }
    if (proc)
        closedir(proc);
    return found;
}

/* GPGME starts gpg through an intermediate child that exits at once ("double fork"), so gpg
 * itself is adopted by init and its CPU time never reaches RUSAGE_CHILDREN. Making this process
 * a child subreaper and reaping the adopted gpg processes here brings it back. Only zombies
 * whose command is not our own (i.e. the exec'd gpg, not GPGME's intermediate child, which
 * GPGME reaps itself) are collected. */
static volatile int g_reaper_stop;
static char g_self_comm[64];

static void *reaper_thread(void *arg)
{
    (void) arg;
    while (!g_reaper_stop) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        /* blocks until some child has exited; ECHILD at once when there are none */
        if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) != 0) {
            usleep(2000);
            continue;
        }
        if (si.si_pid) {
            char path[64], comm[64] = "";
            snprintf(path, sizeof path, "/proc/%d/comm", (int) si.si_pid);
            FILE *f = fopen(path, "r");
            if (f) {
                if (!fgets(comm, sizeof comm, f))
                    comm[0] = 0;
                fclose(f);
            }
            if (comm[0] && strcmp(comm, g_self_comm)) {
                waitpid(si.si_pid, NULL, 0);
                continue;
            }
        }
        usleep(100); /* GPGME's own intermediate child: GPGME reaps it right away */
    }
    return NULL;
}

static pthread_t start_reaper(void)
{
    pthread_t th;
    FILE *f = fopen("/proc/self/comm", "r");
    if (!f || !fgets(g_self_comm, sizeof g_self_comm, f))
        die("cannot read /proc/self/comm");
    fclose(f);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        die("PR_SET_CHILD_SUBREAPER failed");
    if (pthread_create(&th, NULL, reaper_thread, NULL))
        die("pthread_create failed");
    return th;
}

/* Other work on the same cores falsifies wall-clock numbers: before each phase, wait until the
 * rest of the machine has used < IDLE_CORES for 3 seconds, at most g_wait_idle seconds. */
#define IDLE_CORES 0.25
static double g_wait_idle = 600;
static int g_retries = 2;
static void wait_for_idle(const char *what)
{
    double deadline = now_s() + g_wait_idle;
    bool said = false;
    while (g_wait_idle > 0) {
        double b0 = machine_busy_s();
        sleep(3);
        double busy = (machine_busy_s() - b0) / 3.0;
        if (busy < IDLE_CORES)
            break;
        if (now_s() > deadline) {
            fprintf(stderr, "    machine still %.1f cores busy; measuring %s anyway\n", busy, what);
            break;
        }
        if (!said)
            fprintf(stderr, "    machine %.1f cores busy with other work; waiting before %s\n", busy,
                    what);
        said = true;
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die("cannot write %s", path);
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* ------------------------------------------------------------------------------------------ */
/* Recipients and messages                                                                    */

typedef struct {
    char kt[16];     /* "cv25519" or "rsa3072" */
    char fpr[41];    /* primary key fingerprint, upper-case hex */
    char email[128]; /* the key's address, also put into the message */
} recipient_t;

static recipient_t *g_rcpt;
static size_t g_nrcpt;

static void load_recipients(const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    size_t cap = 64;
    g_rcpt = calloc(cap, sizeof(*g_rcpt));
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (g_nrcpt == cap) {
            cap *= 2;
            g_rcpt = realloc(g_rcpt, cap * sizeof(*g_rcpt));
        }
        recipient_t *r = &g_rcpt[g_nrcpt];
        if (sscanf(line, "%15s %40s %127s", r->kt, r->fpr, r->email) == 3)
            g_nrcpt++;
    }
    free(text);
    if (!g_nrcpt)
        die("no recipients in %s", path);
}

static int fpr_cmp(const void *a, const void *b)
{
    return strcmp(((const recipient_t *) a)->fpr, ((const recipient_t *) b)->fpr);
}

/* index of a fingerprint in g_rcpt (which is sorted by fingerprint), or -1 */
static long recipient_index(const char *fpr)
{
    recipient_t key;
    snprintf(key.fpr, sizeof(key.fpr), "%s", fpr);
    recipient_t *hit = bsearch(&key, g_rcpt, g_nrcpt, sizeof(*g_rcpt), fpr_cmp);
    return hit ? hit - g_rcpt : -1;
}

typedef struct {
    const char *kt;
    size_t n;       /* messages */
    size_t *rcpt;   /* index into g_rcpt of message i's recipient */
    size_t nkeys;   /* distinct recipient keys cycled */
    uint64_t seed;  /* makes the tokens differ between runs */
} msgset_t;

/* ~2 KB of Dutch/Danish security-advisory prose with non-ASCII in it, personalised with the
 * recipient's address and a unique token; every message is different. */
static size_t make_message(char *buf, size_t cap, size_t i, const char *email, uint64_t seed)
{
    uint64_t t1 = splitmix64(seed ^ (i * 0x100000001b3ULL)), t2 = splitmix64(t1);
    int n = snprintf(
        buf, cap,
        "Aan: %s\n"
        "Onderwerp: Beveiligingsadvies – æøå – kenmerk HRD-%06zu\n"
        "\n"
        "Beste lezer (%s),\n"
        "\n"
        "Dit is een persoonlijk beveiligingsadvies van het Herald-project. Uw unieke token is\n"
        "%016" PRIx64 "%016" PRIx64 " (bericht nr. %zu). Bewaar dit token; u heeft het nodig om\n"
        "de ontvangst te bevestigen via de beheerconsole.\n"
        "\n"
        "Samenvatting: in versie 2.4.1 t/m 2.4.7 kon een aanvaller met een speciaal\n"
        "geprepareerd verzoek de sessiecontrole omzeilen. Het risico is ingeschaald als „hoog”;\n"
        "de CVSS-score bedraagt 8,1. Wij adviseren u dringend om vóór vrijdag te updaten naar\n"
        "versie 2.4.8 of later. Er zijn geen aanwijzingen dat de kwetsbaarheid actief\n"
        "misbruikt wordt, maar een proof-of-concept circuleert inmiddels.\n"
        "\n"
        "Kort på dansk: Sikkerhedsrådgivning – opdatér venligst før fredag. Søg hjælp hos\n"
        "jeres driftsansvarlige, hvis I er i tvivl. Æbler, øl og ål er ikke berørt.\n"
        "\n"
        "Getroffen onderdelen:\n"
        "  • de HTTP-API (endpoint /v1/subscriptions)\n"
        "  • de beheerconsole (inloggen met e-mail en TOTP)\n"
        "  • de webhook-ontvanger (alleen bij gedeelde geheimen < 32 bytes)\n"
        "\n"
        "Stappen:\n"
        "  1. Maak een reservekopie van de database (± 2 minuten per GiB).\n"
        "  2. Installeer de update en herstart de dienst.\n"
        "  3. Controleer in het logboek of de melding „sessiecontrole actief” verschijnt.\n"
        "  4. Vervang alle API-sleutels die vóór de update zijn uitgegeven.\n"
        "\n"
        "Vragen? Antwoord op dit bericht; het antwoord wordt versleuteld naar de sleutel van het\n"
        "project. Kosten voor ondersteuning: € 0,00. Met vriendelijke groet — het Herald-team.\n"
        "\n"
        "Naïeve controles, coöperatieve beheerders en één enkele crème-brûlée: geen van allen\n"
        "beschermt u tegen deze fout. Alleen de update doet dat. Zürich, Tromsø, Ærøskøbing en\n"
        "Ĳsselmonde ontvangen dit advies tegelijk met u.\n"
        "\n"
        "-- \n"
        "Herald security <security@herald.invalid> · token %016" PRIx64 " · ontvanger %s\n",
        email, i, email, t1, t2, i, t2, email);
    if (n < 0 || (size_t) n >= cap)
        die("message buffer too small");
    return (size_t) n;
}

/* Messages are generated when they are sent (about a microsecond each, the same for both
 * libraries, measured separately): holding 10,000 texts in memory would make the benchmark
 * process bigger and so GPGME's fork() per message dearer. */
static void build_msgset(msgset_t *ms, const char *kt, size_t n, size_t max_keys, uint64_t seed)
{
    size_t *pool = malloc(g_nrcpt * sizeof(size_t)), npool = 0;
    for (size_t r = 0; r < g_nrcpt; r++)
        if (!strcmp(g_rcpt[r].kt, kt) && npool < max_keys)
            pool[npool++] = r;
    ms->kt = kt;
    ms->n = npool ? n : 0;
    ms->nkeys = npool;
    ms->seed = seed;
    ms->rcpt = calloc(n ? n : 1, sizeof(size_t));
    for (size_t i = 0; i < ms->n; i++)
        ms->rcpt[i] = pool[i % npool];
    free(pool);
}

#define MSG_CAP 8192
static size_t message_text(const msgset_t *ms, size_t i, char *buf)
{
    return make_message(buf, MSG_CAP, i, g_rcpt[ms->rcpt[i]].email, ms->seed);
}

/* ------------------------------------------------------------------------------------------ */
/* Benchmark state                                                                            */

/* LIB_GPGME_NOLOCK: GPGME again, on a GNUPGHOME whose gpg.conf adds "lock-never" and
 * "no-random-seed-file": concurrent gpg processes otherwise queue on the keybox dotlock and on
 * the random_seed file lock (with sleeps of 50 ms and more), so a second thread gains nothing. */
enum { LIB_RNP, LIB_GPGME, LIB_GPGME_NOLOCK };
static const char *LIB_NAME[] = {"librnp", "gpgme", "gpgme-nolock"};

static char *g_pub, *g_sec; /* armored recipient public keys (+ project cert), project secret */
static size_t g_publen, g_seclen;
static const char *g_signer;   /* project key fingerprint */
static const char *g_homes[3]; /* GNUPGHOME per GPGME variant (fresh, empty at start) */
static const char *g_samples;  /* directory for sampled outputs */
static size_t g_sample_count = 5;
static FILE *g_manifest;
static pthread_mutex_t g_manifest_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    int lib, tid, nthreads;
    /* librnp: one rnp_ffi_t per thread, holding its own copy of every key */
    rnp_ffi_t ffi;
    rnp_key_handle_t signer;
    /* gpgme: one context per thread; keys fetched once per context */
    gpgme_ctx_t gctx;
    gpgme_key_t *gkeys; /* indexed like g_rcpt */
    gpgme_key_t gsigner;
    /* current phase */
    const msgset_t *ms;
    size_t done, bytes, inbytes, bad_armor;
    double load_s;
} worker_t;

static bool is_sample(size_t i, size_t n, int nthreads)
{
    if (!g_sample_count || !n)
        return false;
    size_t step = n / g_sample_count ? n / g_sample_count : 1;
    for (size_t k = 0; k < g_sample_count; k++) {
        size_t idx = k * step + (k % (size_t) nthreads);
        if (idx < n && idx == i)
            return true;
    }
    return false;
}

static void save_sample(const worker_t *w, size_t i, const void *out, size_t outlen,
                        const char *text, size_t textlen)
{
    const msgset_t *ms = w->ms;
    char asc[1024], txt[1024];
    snprintf(asc, sizeof asc, "%s/%s-%s-t%d-%zu.asc", g_samples, LIB_NAME[w->lib], ms->kt,
             w->nthreads, i);
    snprintf(txt, sizeof txt, "%s/plain-%s-%zu.txt", g_samples, ms->kt, i);
    write_file(asc, out, outlen);
    write_file(txt, text, textlen);
    pthread_mutex_lock(&g_manifest_lock);
    fprintf(g_manifest, "%s\t%s\t%d\t%zu\t%s\t%s\t%s\t%s\n", LIB_NAME[w->lib], ms->kt,
            w->nthreads, i, g_rcpt[ms->rcpt[i]].fpr, g_rcpt[ms->rcpt[i]].email, asc, txt);
    fflush(g_manifest);
    pthread_mutex_unlock(&g_manifest_lock);
}

static void account(worker_t *w, size_t i, const char *out, size_t outlen, const char *text,
                    size_t textlen)
{
    static const char head[] = "-----BEGIN PGP MESSAGE-----";
    if (outlen < sizeof head || memcmp(out, head, sizeof head - 1))
        w->bad_armor++;
    w->bytes += outlen;
    w->done++;
    if (is_sample(i, w->ms->n, w->nthreads))
        save_sample(w, i, out, outlen, text, textlen);
    w->inbytes += textlen;
}

/* ------------------------------------------------------------------------------------------ */
/* librnp                                                                                     */

/* Loads all recipient public keys and the (unprotected) project secret key into a fresh
 * in-memory keyring. No files, no homedir: rnp_ffi_create("GPG","GPG") only names the formats
 * rnp_load_keys/rnp_save_keys would use. */
static void rnp_load(worker_t *w)
{
    double t0 = now_s();
    rnp_input_t in = NULL;
    RNP_CHECK(rnp_ffi_create(&w->ffi, "GPG", "GPG"));
    RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) g_pub, g_publen, false));
    RNP_CHECK(rnp_import_keys(w->ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS, NULL));
    rnp_input_destroy(in);
    /* The exported secret key carries its public part; SECRET alone is enough, but asking for
     * both is harmless. An unprotected key (s2k usage 0) needs no password provider. */
    RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) g_sec, g_seclen, false));
    RNP_CHECK(rnp_import_keys(w->ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SECRET_KEYS,
                              NULL));
    rnp_input_destroy(in);
    RNP_CHECK(rnp_locate_key(w->ffi, "fingerprint", g_signer, &w->signer));
    if (!w->signer)
        die("librnp: signing key %s not found after import", g_signer);
    bool secret = false, protected_ = true, locked = true;
    RNP_CHECK(rnp_key_have_secret(w->signer, &secret));
    RNP_CHECK(rnp_key_is_protected(w->signer, &protected_));
    RNP_CHECK(rnp_key_is_locked(w->signer, &locked));
    if (!secret || protected_ || locked)
        die("librnp: signing key secret=%d protected=%d locked=%d", secret, protected_, locked);
    w->load_s = now_s() - t0;
}

static void rnp_unload(worker_t *w)
{
    rnp_key_handle_destroy(w->signer);
    rnp_ffi_destroy(w->ffi);
    w->signer = NULL;
    w->ffi = NULL;
}

static void rnp_encrypt_one(worker_t *w, size_t i)
{
    const msgset_t *ms = w->ms;
    char text[MSG_CAP];
    size_t textlen = message_text(ms, i, text);
    rnp_key_handle_t rcpt = NULL;
    rnp_input_t in = NULL;
    rnp_output_t out = NULL;
    rnp_op_encrypt_t op = NULL;
    /* Locating by fingerprint per message is what Herald would do; it is an indexed lookup. */
    RNP_CHECK(rnp_locate_key(w->ffi, "fingerprint", g_rcpt[ms->rcpt[i]].fpr, &rcpt));
    if (!rcpt)
        die("librnp: recipient %s not found", g_rcpt[ms->rcpt[i]].fpr);
    RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) text, textlen, false));
    RNP_CHECK(rnp_output_to_memory(&out, 0));
    RNP_CHECK(rnp_op_encrypt_create(&op, w->ffi, in, out));
    /* Given the primary key, librnp picks its usable encryption subkey itself. If there is
     * none (expired, revoked), 0.16.3 still returns RNP_SUCCESS here and only
     * rnp_op_encrypt_execute fails, with RNP_ERROR_NO_SUITABLE_KEY (see the selftest). */
    RNP_CHECK(rnp_op_encrypt_add_recipient(op, rcpt));
    RNP_CHECK(rnp_op_encrypt_add_signature(op, w->signer, NULL));
    /* Same choices gpg makes here (gpg.conf: personal-digest-preferences SHA256; recipients'
     * preferences AES256 then ZLIB), so both write comparable messages. */
    RNP_CHECK(rnp_op_encrypt_set_hash(op, "SHA256"));
    RNP_CHECK(rnp_op_encrypt_set_cipher(op, "AES256"));
    RNP_CHECK(rnp_op_encrypt_set_compression(op, "ZLIB", 6));
    RNP_CHECK(rnp_op_encrypt_set_armor(op, true));
    RNP_CHECK(rnp_op_encrypt_execute(op));
    uint8_t *buf = NULL;
    size_t len = 0;
    RNP_CHECK(rnp_output_memory_get_buf(out, &buf, &len, false)); /* owned by `out` */
    account(w, i, (const char *) buf, len, text, textlen);
    rnp_op_encrypt_destroy(op);
    rnp_input_destroy(in);
    rnp_output_destroy(out);
    rnp_key_handle_destroy(rcpt);
}

/* ------------------------------------------------------------------------------------------ */
/* GPGME                                                                                      */

static gpgme_ctx_t gpgme_context(const char *home)
{
    gpgme_ctx_t ctx;
    GPGME_CHECK(gpgme_new(&ctx));
    GPGME_CHECK(gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP));
    GPGME_CHECK(gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home));
    gpgme_set_armor(ctx, 1);
    gpgme_set_textmode(ctx, 0); /* binary literal data: the text comes back byte for byte */
    GPGME_CHECK(gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK));
    GPGME_CHECK(gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL));
    return ctx;
}

static void gpgme_import_buffer(gpgme_ctx_t ctx, const char *buf, size_t len, int want_secret)
{
    gpgme_data_t d;
    GPGME_CHECK(gpgme_data_new_from_mem(&d, buf, len, 0));
    GPGME_CHECK(gpgme_op_import(ctx, d));
    gpgme_import_result_t r = gpgme_op_import_result(ctx);
    if (!r || r->not_imported || (want_secret && !r->secret_imported) ||
        (!want_secret && !r->imported))
        die("gpgme import: considered=%d imported=%d secret_imported=%d not_imported=%d",
            r ? r->considered : -1, r ? r->imported : -1, r ? r->secret_imported : -1,
            r ? r->not_imported : -1);
    gpgme_data_release(d);
}

/* Imports everything into the (fresh) GNUPGHOME: gpg's keybox on disk plus gpg-agent's
 * private-keys-v1.d. This is GPGME's "load"; it happens once, not per context. */
static double gpgme_import_all(const char *home)
{
    double t0 = now_s();
    gpgme_ctx_t ctx = gpgme_context(home);
    gpgme_import_buffer(ctx, g_pub, g_publen, 0);
    gpgme_import_buffer(ctx, g_sec, g_seclen, 1);
    gpgme_release(ctx);
    return now_s() - t0;
}

/* One context per thread; gpgme_key_t handles fetched with ONE keylist run per context (a
 * gpgme_get_key per recipient would spawn one gpg process per key). */
static void gpgme_load(worker_t *w)
{
    double t0 = now_s();
    w->gctx = gpgme_context(g_homes[w->lib]);
    w->gkeys = calloc(g_nrcpt, sizeof(gpgme_key_t));
    GPGME_CHECK(gpgme_op_keylist_start(w->gctx, NULL, 0));
    gpgme_key_t key;
    size_t found = 0;
    gpgme_error_t err;
    while (!(err = gpgme_op_keylist_next(w->gctx, &key))) {
        long r = key->subkeys ? recipient_index(key->subkeys->fpr) : -1;
        if (r >= 0 && !w->gkeys[r]) {
            w->gkeys[r] = key;
            found++;
        } else {
            gpgme_key_unref(key);
        }
    }
    if (gpg_err_code(err) != GPG_ERR_EOF)
        GPGME_CHECK(err);
    GPGME_CHECK(gpgme_op_keylist_end(w->gctx));
    if (found != g_nrcpt)
        die("gpgme: found %zu of %zu recipient keys", found, g_nrcpt);
    GPGME_CHECK(gpgme_get_key(w->gctx, g_signer, &w->gsigner, 1));
    GPGME_CHECK(gpgme_signers_add(w->gctx, w->gsigner));
    w->load_s = now_s() - t0;
}

static void gpgme_unload(worker_t *w)
{
    for (size_t r = 0; r < g_nrcpt; r++)
        if (w->gkeys[r])
            gpgme_key_unref(w->gkeys[r]);
    free(w->gkeys);
    gpgme_key_unref(w->gsigner);
    gpgme_release(w->gctx);
    w->gkeys = NULL;
    w->gctx = NULL;
}

static void gpgme_encrypt_one(worker_t *w, size_t i)
{
    const msgset_t *ms = w->ms;
    char text[MSG_CAP];
    size_t textlen = message_text(ms, i, text);
    gpgme_data_t in, out;
    gpgme_key_t rcpts[2] = {w->gkeys[ms->rcpt[i]], NULL};
    GPGME_CHECK(gpgme_data_new_from_mem(&in, text, textlen, 0));
    GPGME_CHECK(gpgme_data_new(&out));
    GPGME_CHECK(gpgme_op_encrypt_sign(w->gctx, rcpts, GPGME_ENCRYPT_ALWAYS_TRUST, in, out));
    gpgme_encrypt_result_t er = gpgme_op_encrypt_result(w->gctx);
    gpgme_sign_result_t sr = gpgme_op_sign_result(w->gctx);
    if (!er || er->invalid_recipients || !sr || sr->invalid_signers || !sr->signatures ||
        sr->signatures->next)
        die("gpgme: message %zu not encrypted+signed as asked", i);
    size_t len = 0;
    char *buf = gpgme_data_release_and_get_mem(out, &len);
    account(w, i, buf, len, text, textlen);
    gpgme_free(buf);
    gpgme_data_release(in);
}

/* ------------------------------------------------------------------------------------------ */
/* Phases                                                                                     */

static void *encrypt_thread(void *arg)
{
    worker_t *w = arg;
    for (size_t i = (size_t) w->tid; i < w->ms->n; i += (size_t) w->nthreads) {
        if (w->lib == LIB_RNP)
            rnp_encrypt_one(w, i);
        else
            gpgme_encrypt_one(w, i);
    }
    return NULL;
}

static void *load_thread(void *arg)
{
    worker_t *w = arg;
    if (w->lib == LIB_RNP)
        rnp_load(w);
    else
        gpgme_load(w);
    return NULL;
}

static double run_threads(worker_t *w, int n, void *(*fn)(void *))
{
    pthread_t th[64];
    double t0 = now_s();
    for (int t = 0; t < n; t++)
        if (pthread_create(&th[t], NULL, fn, &w[t]))
            die("pthread_create failed");
    for (int t = 0; t < n; t++)
        pthread_join(th[t], NULL);
    return now_s() - t0;
}

static void bench_lib(int lib, int nthreads, const msgset_t *sets, int nsets, double import_s)
{
    worker_t w[64];
    memset(w, 0, sizeof w);
    for (int t = 0; t < nthreads; t++) {
        w[t].lib = lib;
        w[t].tid = t;
        w[t].nthreads = nthreads;
    }
    char what[128];
    snprintf(what, sizeof what, "%s load (%d thread%s)", LIB_NAME[lib], nthreads,
             nthreads > 1 ? "s" : "");
    wait_for_idle(what);
    double rss0 = rss_mb();
    double load_wall = run_threads(w, nthreads, load_thread);
    double rss1 = rss_mb();
    /* LOAD lib threads wall_s per_thread_max_s import_s (gpgme's one-off import) rss_mb */
    double maxload = 0;
    for (int t = 0; t < nthreads; t++)
        if (w[t].load_s > maxload)
            maxload = w[t].load_s;
    printf("LOAD\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.1f\n", LIB_NAME[lib], nthreads, load_wall, maxload,
           import_s, rss1 - rss0);
    fflush(stdout);
    for (int s = 0; s < nsets; s++) {
        const msgset_t *ms = &sets[s];
        if (!ms->n)
            continue;
        snprintf(what, sizeof what, "%s %s (%d thread%s)", LIB_NAME[lib], ms->kt, nthreads,
                 nthreads > 1 ? "s" : "");
        /* A phase during which other processes used more than IDLE_CORES is repeated (at most
         * g_retries times); the attempt with the least interference is reported. */
        char best[512] = "";
        double best_foreign = 1e9;
        int attempt;
        for (attempt = 1; attempt <= 1 + g_retries; attempt++) {
            for (int t = 0; t < nthreads; t++) {
                w[t].ms = ms;
                w[t].done = w[t].bytes = w[t].bad_armor = w[t].inbytes = 0;
            }
            wait_for_idle(what);
            long agent = lib != LIB_RNP ? find_agent(g_homes[lib]) : 0;
            double cs0, cc0, cs1, cc1;
            double rb = rss_mb();
            double m0 = machine_busy_s(), a0 = process_cpu_s(agent);
            cpu_s(&cs0, &cc0);
            double wall = run_threads(w, nthreads, encrypt_thread);
            cpu_s(&cs1, &cc1);
            double m1 = machine_busy_s(), a1 = process_cpu_s(agent);
            double ra = rss_mb();
            double agent_s = a1 - a0;
            /* CPU the rest of the machine used meanwhile, in cores: a measure of interference */
            double foreign = ((m1 - m0) - (cs1 - cs0) - (cc1 - cc0) - agent_s) / wall;
            if (foreign < 0)
                foreign = 0;
            size_t done = 0, bytes = 0, bad = 0, inbytes = 0;
            for (int t = 0; t < nthreads; t++) {
                done += w[t].done;
                bytes += w[t].bytes;
                bad += w[t].bad_armor;
                inbytes += w[t].inbytes;
            }
            if (done != ms->n)
                die("%s: %zu of %zu messages done", LIB_NAME[lib], done, ms->n);
            if (bad)
                die("%s: %zu outputs are not ASCII-armored messages", LIB_NAME[lib], bad);
            /* RESULT lib kt threads messages keys wall_s msgs_per_s us_per_msg cpu_self_us
             * cpu_children_us avg_out_bytes avg_in_bytes bad_armor rss_growth_mb agent_cpu_us
             * foreign_cores attempt */
            if (foreign < best_foreign) {
                best_foreign = foreign;
                snprintf(best, sizeof best,
                         "RESULT\t%s\t%s\t%d\t%zu\t%zu\t%.4f\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%zu"
                         "\t%.1f\t%.1f\t%.2f\t%d\n",
                         LIB_NAME[lib], ms->kt, nthreads, done, ms->nkeys, wall, done / wall,
                         wall * 1e6 / done, (cs1 - cs0) * 1e6 / done, (cc1 - cc0) * 1e6 / done,
                         (double) bytes / done, (double) inbytes / done, bad, ra - rb,
                         agent_s * 1e6 / done, foreign, attempt);
            }
            if (foreign <= IDLE_CORES)
                break;
            if (attempt <= g_retries)
                fprintf(stderr, "    other processes used %.2f cores during %s; repeating it\n",
                        foreign, what);
        }
        fputs(best, stdout);
        fflush(stdout);
    }
    for (int t = 0; t < nthreads; t++) {
        if (lib == LIB_RNP)
            rnp_unload(&w[t]);
        else
            gpgme_unload(&w[t]);
    }
}

static int cmd_bench(int argc, char **argv)
{
    const char *recipients = NULL, *pubkeys = NULL, *seckey = NULL, *libs = "rnp,gpgme";
    size_t messages = 10000, max_keys = (size_t) -1;
    int threads = 2;
    uint64_t seed = (uint64_t) time(NULL);
    for (int a = 0; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!v)
            die("option %s needs a value", o);
        a++;
        if (!strcmp(o, "--recipients")) recipients = v;
        else if (!strcmp(o, "--pubkeys")) pubkeys = v;
        else if (!strcmp(o, "--seckey")) seckey = v;
        else if (!strcmp(o, "--signer")) g_signer = v;
        else if (!strcmp(o, "--gnupghome")) g_homes[LIB_GPGME] = v;
        else if (!strcmp(o, "--gnupghome-nolock")) g_homes[LIB_GPGME_NOLOCK] = v;
        else if (!strcmp(o, "--samples")) g_samples = v;
        else if (!strcmp(o, "--messages")) messages = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--max-keys")) max_keys = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--threads")) threads = atoi(v);
        else if (!strcmp(o, "--sample-count")) g_sample_count = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--libs")) libs = v;
        else if (!strcmp(o, "--wait-idle")) g_wait_idle = atof(v);
        else if (!strcmp(o, "--retries")) g_retries = atoi(v);
        else die("unknown option %s", o);
    }
    if (!recipients || !pubkeys || !seckey || !g_signer || !g_homes[LIB_GPGME] || !g_samples)
        die("bench needs --recipients --pubkeys --seckey --signer --gnupghome --samples");
    if (threads < 1 || threads > 64)
        die("--threads must be 1..64");

    pthread_t reaper = 0;
    load_recipients(recipients);
    qsort(g_rcpt, g_nrcpt, sizeof(*g_rcpt), fpr_cmp);
    g_pub = read_file(pubkeys, &g_publen);
    g_sec = read_file(seckey, &g_seclen);
    mkdir(g_samples, 0755);
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.tsv", g_samples);
    g_manifest = fopen(path, "w");
    if (!g_manifest)
        die("cannot write %s", path);

    msgset_t sets[2];
    build_msgset(&sets[0], "cv25519", messages, max_keys, seed);
    build_msgset(&sets[1], "rsa3072", messages, max_keys, seed);
    /* what generating the texts costs (it is inside every per-message time below) */
    size_t total = 0, gen = sets[0].n < 2000 ? sets[0].n : 2000;
    char text[MSG_CAP];
    double g0 = now_s();
    for (size_t i = 0; i < gen; i++)
        total += message_text(&sets[0], i, text);
    double gen_us = gen ? (now_s() - g0) * 1e6 / gen : 0;
    struct rlimit nofile;
    getrlimit(RLIMIT_NOFILE, &nofile);
    printf("INFO\tlibrnp %s; gpgme %s; %zu recipient keys loaded; messages per key type %zu; "
           "cv25519 keys cycled %zu; rsa3072 keys cycled %zu; mean plaintext %.0f bytes, "
           "generated in %.1f us each; RLIMIT_NOFILE %llu; seed %" PRIu64 "\n",
           rnp_version_string_full(), gpgme_check_version(NULL), g_nrcpt, messages,
           sets[0].nkeys, sets[1].nkeys, gen ? (double) total / gen : 0, gen_us,
           (unsigned long long) nofile.rlim_cur, seed);
    fflush(stdout);

    if (strstr(libs, "rnp")) {
        bench_lib(LIB_RNP, 1, sets, 2, 0);
        if (threads > 1)
            bench_lib(LIB_RNP, threads, sets, 2, 0);
    }
    if (strstr(libs, "gpgme")) {
        reaper = start_reaper();
        wait_for_idle("gpgme import");
        double import_s = gpgme_import_all(g_homes[LIB_GPGME]);
        bench_lib(LIB_GPGME, 1, sets, 2, import_s);
        if (threads > 1)
            bench_lib(LIB_GPGME, threads, sets, 2, import_s);
        if (threads > 1 && g_homes[LIB_GPGME_NOLOCK]) {
            wait_for_idle("gpgme-nolock import");
            import_s = gpgme_import_all(g_homes[LIB_GPGME_NOLOCK]);
            bench_lib(LIB_GPGME_NOLOCK, threads, sets, 2, import_s);
        }
    }
    fclose(g_manifest);
    for (int s = 0; s < 2; s++)
        free(sets[s].rcpt);
    free(g_pub);
    free(g_sec);
    free(g_rcpt);
    if (reaper) {
        /* stop the reaper: it may sit in waitid, so give it one child to collect */
        g_reaper_stop = 1;
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        pthread_join(reaper, NULL);
        waitpid(pid, NULL, WNOHANG);
    }
    double cself, cchildren;
    cpu_s(&cself, &cchildren);
    printf("CPU\t%.3f\t%.3f\n", cself, cchildren); /* whole run, for the load accounting */
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* selftest: the librnp snippets Herald needs besides encrypt+sign                             */

/* (1) Everything Herald wants to know about a recipient's key. */
static void describe_key(rnp_key_handle_t key, const char *indent)
{
    char *fpr = NULL, *alg = NULL, *curve = NULL;
    uint32_t created = 0, expiry = 0, bits = 0;
    uint64_t valid_till = 0;
    bool primary = false, revoked = false, valid = false, expired = false, can_encrypt = false,
         can_sign = false, secret = false;
    RNP_CHECK(rnp_key_get_fprint(key, &fpr)); /* upper-case hex, free with rnp_buffer_destroy */
    RNP_CHECK(rnp_key_get_alg(key, &alg));    /* "EDDSA", "ECDH", "RSA", ... */
    if (rnp_key_get_curve(key, &curve) != RNP_SUCCESS) /* fails for RSA: no curve */
        curve = NULL;
    RNP_CHECK(rnp_key_get_bits(key, &bits));
    RNP_CHECK(rnp_key_is_primary(key, &primary));
    RNP_CHECK(rnp_key_get_creation(key, &created));
    RNP_CHECK(rnp_key_get_expiration(key, &expiry)); /* SECONDS AFTER CREATION, 0 = never */
    RNP_CHECK(rnp_key_valid_till64(key, &valid_till)); /* absolute; revocation/expiry aware */
    RNP_CHECK(rnp_key_is_revoked(key, &revoked));
    RNP_CHECK(rnp_key_is_expired(key, &expired));
    RNP_CHECK(rnp_key_is_valid(key, &valid));
    RNP_CHECK(rnp_key_allows_usage(key, "encrypt", &can_encrypt)); /* key flags only */
    RNP_CHECK(rnp_key_allows_usage(key, "sign", &can_sign));
    RNP_CHECK(rnp_key_have_secret(key, &secret));
    printf("%s%s %s%s%s/%u fpr=%s created=%u expiration=%u%s valid_till=%s%" PRIu64
           " revoked=%d expired=%d valid=%d allows_encrypt=%d allows_sign=%d secret=%d\n",
           indent, primary ? "primary" : "subkey", alg, curve ? "/" : "", curve ? curve : "",
           bits, fpr, created, expiry, expiry ? "s" : "(never)",
           valid_till == UINT64_MAX ? "never:" : "", valid_till, revoked, expired, valid,
           can_encrypt, can_sign, secret);
    if (revoked) {
        char *reason = NULL;
        if (rnp_key_get_revocation_reason(key, &reason) == RNP_SUCCESS)
            printf("%s  revocation reason: %s\n", indent, reason);
        rnp_buffer_destroy(reason);
    }
    rnp_buffer_destroy(fpr);
    rnp_buffer_destroy(alg);
    rnp_buffer_destroy(curve);
    if (!primary)
        return;
    size_t nuid = 0;
    RNP_CHECK(rnp_key_get_uid_count(key, &nuid));
    for (size_t u = 0; u < nuid; u++) {
        char *uid = NULL;
        rnp_uid_handle_t uh = NULL;
        bool uvalid = false, urevoked = false, uprimary = false;
        RNP_CHECK(rnp_key_get_uid_at(key, u, &uid));
        RNP_CHECK(rnp_key_get_uid_handle_at(key, u, &uh));
        RNP_CHECK(rnp_uid_is_valid(uh, &uvalid));
        RNP_CHECK(rnp_uid_is_revoked(uh, &urevoked));
        RNP_CHECK(rnp_uid_is_primary(uh, &uprimary));
        printf("%s  uid[%zu] \"%s\" valid=%d revoked=%d primary=%d\n", indent, u, uid, uvalid,
               urevoked, uprimary);
        rnp_uid_handle_destroy(uh);
        rnp_buffer_destroy(uid);
    }
    size_t nsub = 0;
    RNP_CHECK(rnp_key_get_subkey_count(key, &nsub));
    for (size_t s = 0; s < nsub; s++) {
        rnp_key_handle_t sub = NULL;
        RNP_CHECK(rnp_key_get_subkey_at(key, s, &sub));
        char ind[64];
        snprintf(ind, sizeof ind, "%s  ", indent);
        describe_key(sub, ind);
        rnp_key_handle_destroy(sub);
    }
    /* "Can Herald encrypt to this key now?": the subkey librnp itself would pick. */
    rnp_key_handle_t enc = NULL;
    rnp_result_t rc = rnp_key_get_default_key(key, "encrypt", 0, &enc);
    char *efpr = NULL;
    if (rc == RNP_SUCCESS && enc)
        rnp_key_get_fprint(enc, &efpr);
    printf("%s  rnp_key_get_default_key(\"encrypt\") -> %s %s\n", indent,
           rnp_result_to_string(rc), efpr ? efpr : "(none)");
    rnp_buffer_destroy(efpr);
    rnp_key_handle_destroy(enc);
}

static rnp_key_handle_t locate(rnp_ffi_t ffi, const char *type, const char *id)
{
    rnp_key_handle_t key = NULL;
    RNP_CHECK(rnp_locate_key(ffi, type, id, &key)); /* success with key==NULL: not found */
    if (!key)
        die("key %s=%s not found", type, id);
    return key;
}

/* (4) Export a public key (primary + subkeys) armored, to memory. */
static char *export_public_armored(rnp_key_handle_t key, size_t *len)
{
    rnp_output_t out = NULL;
    uint8_t *buf = NULL;
    RNP_CHECK(rnp_output_to_memory(&out, 0));
    RNP_CHECK(rnp_key_export(key, out,
                             RNP_KEY_EXPORT_ARMORED | RNP_KEY_EXPORT_PUBLIC |
                               RNP_KEY_EXPORT_SUBKEYS));
    RNP_CHECK(rnp_output_memory_get_buf(out, &buf, len, true)); /* copy: free with
                                                                    rnp_buffer_destroy */
    rnp_output_destroy(out);
    return (char *) buf;
}

static char *export_secret_armored(rnp_key_handle_t key, size_t *len)
{
    rnp_output_t out = NULL;
    uint8_t *buf = NULL;
    RNP_CHECK(rnp_output_to_memory(&out, 0));
    RNP_CHECK(rnp_key_export(key, out,
                             RNP_KEY_EXPORT_ARMORED | RNP_KEY_EXPORT_SECRET |
                               RNP_KEY_EXPORT_SUBKEYS));
    RNP_CHECK(rnp_output_memory_get_buf(out, &buf, len, true));
    rnp_output_destroy(out);
    return (char *) buf;
}

static void save_key_files(rnp_key_handle_t key, const char *dir, const char *name)
{
    char path[1024];
    size_t len;
    char *pub = export_public_armored(key, &len);
    snprintf(path, sizeof path, "%s/%s-pub.asc", dir, name);
    write_file(path, pub, len);
    rnp_buffer_destroy(pub);
    char *sec = export_secret_armored(key, &len);
    snprintf(path, sizeof path, "%s/%s-sec.asc", dir, name);
    write_file(path, sec, len);
    rnp_buffer_destroy(sec);
}

/* (2a) Ed25519 primary (sign+certify) + Cv25519 encryption subkey from a JSON description.
 * No "protection" member and no password provider: the secret key stays unprotected.
 * "EDDSA" implies Ed25519: adding "curve": "Ed25519" makes librnp 0.16 fail with
 * RNP_ERROR_BAD_PARAMETERS (and log nothing). "curve" is needed for ECDH/ECDSA only. */
static rnp_key_handle_t generate_json(rnp_ffi_t ffi, const char *userid, uint32_t sub_expiry)
{
    char json[1024], *results = NULL;
    snprintf(json, sizeof json,
             "{\"primary\": {\"type\": \"EDDSA\", \"userid\": \"%s\","
             " \"usage\": [\"sign\", \"certify\"], \"expiration\": 0, \"hash\": \"SHA256\"},"
             " \"sub\": {\"type\": \"ECDH\", \"curve\": \"Curve25519\", \"usage\": [\"encrypt\"],"
             " \"expiration\": %u, \"hash\": \"SHA256\"}}",
             userid, sub_expiry);
    RNP_CHECK(rnp_generate_key_json(ffi, json, &results));
    /* results: {"primary":{"grip":"..."},"sub":{"grip":"..."}} (keygrips, not fingerprints) */
    printf("rnp_generate_key_json results: %s\n", results);
    const char *g = strstr(results, "\"grip\"");
    char grip[41] = {0};
    if (!g || sscanf(g, "\"grip\" : \"%40[0-9A-Fa-f]\"", grip) != 1)
        if (!g || sscanf(g, "\"grip\":\"%40[0-9A-Fa-f]\"", grip) != 1)
            die("cannot parse grip from %s", results);
    rnp_buffer_destroy(results);
    return locate(ffi, "grip", grip);
}

/* (2b) The same key through the rnp_op_generate_* builder. */
static rnp_key_handle_t generate_op(rnp_ffi_t ffi, const char *userid)
{
    rnp_op_generate_t op = NULL;
    rnp_key_handle_t primary = NULL, sub = NULL;
    RNP_CHECK(rnp_op_generate_create(&op, ffi, "EDDSA")); /* Ed25519 implied */
    RNP_CHECK(rnp_op_generate_set_userid(op, userid));
    RNP_CHECK(rnp_op_generate_add_usage(op, "sign"));
    RNP_CHECK(rnp_op_generate_add_usage(op, "certify"));
    RNP_CHECK(rnp_op_generate_set_expiration(op, 2 * 365 * 86400));
    RNP_CHECK(rnp_op_generate_set_hash(op, "SHA256"));
    RNP_CHECK(rnp_op_generate_execute(op));
    RNP_CHECK(rnp_op_generate_get_key(op, &primary));
    rnp_op_generate_destroy(op);

    RNP_CHECK(rnp_op_generate_subkey_create(&op, ffi, primary, "ECDH"));
    RNP_CHECK(rnp_op_generate_set_curve(op, "Curve25519"));
    RNP_CHECK(rnp_op_generate_add_usage(op, "encrypt"));
    RNP_CHECK(rnp_op_generate_set_expiration(op, 2 * 365 * 86400));
    RNP_CHECK(rnp_op_generate_execute(op));
    RNP_CHECK(rnp_op_generate_get_key(op, &sub));
    rnp_op_generate_destroy(op);
    rnp_key_handle_destroy(sub);
    return primary;
}

/* (3) Detached, armored signature over `data` by `signer` (unprotected or unlocked secret). */
static char *sign_detached_armored(rnp_ffi_t ffi, rnp_key_handle_t signer, const char *data,
                                   size_t len, size_t *siglen)
{
    rnp_input_t in = NULL;
    rnp_output_t out = NULL;
    rnp_op_sign_t op = NULL;
    rnp_op_sign_signature_t sig = NULL;
    uint8_t *buf = NULL;
    RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) data, len, false));
    RNP_CHECK(rnp_output_to_memory(&out, 0));
    RNP_CHECK(rnp_op_sign_detached_create(&op, ffi, in, out));
    RNP_CHECK(rnp_op_sign_add_signature(op, signer, &sig)); /* sig is owned by op */
    RNP_CHECK(rnp_op_sign_signature_set_hash(sig, "SHA256"));
    RNP_CHECK(rnp_op_sign_set_armor(op, true));
    RNP_CHECK(rnp_op_sign_execute(op));
    RNP_CHECK(rnp_output_memory_get_buf(out, &buf, siglen, true));
    rnp_op_sign_destroy(op);
    rnp_input_destroy(in);
    rnp_output_destroy(out);
    return (char *) buf;
}

/* Check a detached signature with librnp; returns the signer's primary fingerprint or NULL. */
static char *verify_detached(rnp_ffi_t ffi, const char *data, size_t len, const char *sig,
                             size_t siglen)
{
    rnp_input_t in = NULL, sin = NULL;
    rnp_op_verify_t op = NULL;
    char *fpr = NULL;
    RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) data, len, false));
    RNP_CHECK(rnp_input_from_memory(&sin, (const uint8_t *) sig, siglen, false));
    RNP_CHECK(rnp_op_verify_detached_create(&op, ffi, in, sin));
    rnp_result_t rc = rnp_op_verify_execute(op);
    size_t n = 0;
    rnp_op_verify_get_signature_count(op, &n);
    for (size_t s = 0; s < n && rc == RNP_SUCCESS; s++) {
        rnp_op_verify_signature_t vs = NULL;
        rnp_key_handle_t key = NULL;
        RNP_CHECK(rnp_op_verify_get_signature_at(op, s, &vs));
        if (rnp_op_verify_signature_get_status(vs) != RNP_SUCCESS)
            continue;
        RNP_CHECK(rnp_op_verify_signature_get_key(vs, &key));
        bool primary = false;
        if (key && !fpr && rnp_key_is_primary(key, &primary) == RNP_SUCCESS) {
            if (primary)
                RNP_CHECK(rnp_key_get_fprint(key, &fpr));
            else /* signed by a subkey: report the certificate's (primary) fingerprint */
                RNP_CHECK(rnp_key_get_primary_fprint(key, &fpr));
        }
        rnp_key_handle_destroy(key);
    }
    rnp_op_verify_destroy(op);
    rnp_input_destroy(in);
    rnp_input_destroy(sin);
    return fpr;
}

/* Does encrypting to this key work? Reports rnp_op_encrypt_add_recipient's result and, if
 * that succeeded, rnp_op_encrypt_execute's. */
static const char *try_add_recipient(rnp_ffi_t ffi, rnp_key_handle_t key)
{
    static char msg[256];
    rnp_input_t in = NULL;
    rnp_output_t out = NULL;
    rnp_op_encrypt_t op = NULL;
    RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) "x", 1, false));
    RNP_CHECK(rnp_output_to_null(&out));
    RNP_CHECK(rnp_op_encrypt_create(&op, ffi, in, out));
    rnp_result_t rc = rnp_op_encrypt_add_recipient(op, key);
    if (rc != RNP_SUCCESS) {
        snprintf(msg, sizeof msg, "%s", rnp_result_to_string(rc));
    } else {
        rnp_result_t ex = rnp_op_encrypt_execute(op);
        snprintf(msg, sizeof msg, "Success, then rnp_op_encrypt_execute -> %s",
                 rnp_result_to_string(ex));
    }
    rnp_op_encrypt_destroy(op);
    rnp_input_destroy(in);
    rnp_output_destroy(out);
    return msg;
}

static int cmd_selftest(int argc, char **argv)
{
    const char *seckey = NULL, *outdir = NULL;
    for (int a = 0; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--seckey")) seckey = argv[a + 1];
        else if (!strcmp(argv[a], "--signer")) g_signer = argv[a + 1];
        else if (!strcmp(argv[a], "--out")) outdir = argv[a + 1];
        else die("unknown option %s", argv[a]);
    }
    if (!seckey || !g_signer || !outdir)
        die("selftest needs --seckey --signer --out");
    mkdir(outdir, 0755);
    char path[1024];
    rnp_ffi_t ffi = NULL;
    RNP_CHECK(rnp_ffi_create(&ffi, "GPG", "GPG"));

    printf("== (2a) rnp_generate_key_json: Ed25519 + Cv25519, unprotected\n");
    rnp_key_handle_t kj = generate_json(ffi, "JSON Key <json@herald.invalid>", 86400);
    describe_key(kj, "  ");
    save_key_files(kj, outdir, "gen-json");

    printf("== (2b) rnp_op_generate: Ed25519 + Cv25519, 2-year expiry, unprotected\n");
    rnp_key_handle_t ko = generate_op(ffi, "Op Key <op@herald.invalid>");
    describe_key(ko, "  ");
    save_key_files(ko, outdir, "gen-op");

    printf("== (1) expiry: the JSON key's subkey expires after 1 day; seen from 2 days later\n");
    {
        /* librnp computes a key's validity when it is imported/generated and caches it:
         * rnp_set_timestamp on an ffi that already holds the key changes nothing. An ffi whose
         * clock is set BEFORE the import does see the expiry. */
        rnp_ffi_t later = NULL;
        rnp_input_t in = NULL;
        char *fpr = NULL;
        size_t len;
        char *pub = export_public_armored(kj, &len);
        RNP_CHECK(rnp_key_get_fprint(kj, &fpr));
        RNP_CHECK(rnp_set_timestamp(ffi, (uint64_t) time(NULL) + 2 * 86400));
        printf("  same ffi, rnp_set_timestamp(+2 days) after the key was loaded:\n");
        describe_key(kj, "    ");
        printf("    rnp_op_encrypt_add_recipient -> %s\n", try_add_recipient(ffi, kj));
        RNP_CHECK(rnp_set_timestamp(ffi, 0));
        RNP_CHECK(rnp_ffi_create(&later, "GPG", "GPG"));
        RNP_CHECK(rnp_set_timestamp(later, (uint64_t) time(NULL) + 2 * 86400));
        RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) pub, len, false));
        RNP_CHECK(rnp_import_keys(later, in, RNP_LOAD_SAVE_PUBLIC_KEYS, NULL));
        rnp_input_destroy(in);
        rnp_key_handle_t k = locate(later, "fingerprint", fpr);
        printf("  fresh ffi with rnp_set_timestamp(+2 days) set before rnp_import_keys:\n");
        describe_key(k, "    ");
        printf("    rnp_op_encrypt_add_recipient -> %s\n", try_add_recipient(later, k));
        rnp_key_handle_destroy(k);
        rnp_ffi_destroy(later);
        rnp_buffer_destroy(fpr);
        rnp_buffer_destroy(pub);
    }

    printf("== (1) revocation: revoke the rnp_op_generate key, then re-import its export\n");
    RNP_CHECK(rnp_key_revoke(ko, 0, "SHA256", "retired", "rotated for the self-test"));
    size_t publen;
    char *revpub = export_public_armored(ko, &publen);
    snprintf(path, sizeof path, "%s/revoked-pub.asc", outdir);
    write_file(path, revpub, publen);
    {
        rnp_ffi_t other = NULL;
        rnp_input_t in = NULL;
        char *results = NULL, *fpr = NULL;
        RNP_CHECK(rnp_key_get_fprint(ko, &fpr));
        RNP_CHECK(rnp_ffi_create(&other, "GPG", "GPG"));
        RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) revpub, publen, false));
        RNP_CHECK(rnp_import_keys(other, in, RNP_LOAD_SAVE_PUBLIC_KEYS, &results));
        printf("  rnp_import_keys results: %s\n", results);
        rnp_buffer_destroy(results); /* the JSON must be freed */
        rnp_input_destroy(in);
        rnp_key_handle_t k = locate(other, "fingerprint", fpr);
        describe_key(k, "  ");
        printf("  rnp_op_encrypt_add_recipient -> %s\n", try_add_recipient(other, k));
        rnp_key_handle_destroy(k);
        rnp_buffer_destroy(fpr);
        rnp_ffi_destroy(other);
    }
    rnp_buffer_destroy(revpub);

    printf("== (3) detached armored signature by the project key\n");
    size_t seclen;
    char *sec = read_file(seckey, &seclen);
    rnp_input_t in = NULL;
    char *results = NULL;
    RNP_CHECK(rnp_input_from_memory(&in, (const uint8_t *) sec, seclen, false));
    RNP_CHECK(rnp_import_keys(ffi, in, RNP_LOAD_SAVE_SECRET_KEYS, &results));
    printf("  imported project key (SECRET flag only): %s\n", results);
    rnp_buffer_destroy(results);
    rnp_input_destroy(in);
    rnp_key_handle_t project = locate(ffi, "fingerprint", g_signer);
    describe_key(project, "  ");
    const char *data = "Herald release manifest – æøå – v1.0\nsha256 0123456789abcdef\n";
    size_t siglen;
    char *sig = sign_detached_armored(ffi, project, data, strlen(data), &siglen);
    snprintf(path, sizeof path, "%s/detached.txt", outdir);
    write_file(path, data, strlen(data));
    snprintf(path, sizeof path, "%s/detached.asc", outdir);
    write_file(path, sig, siglen);
    char *vfpr = verify_detached(ffi, data, strlen(data), sig, siglen);
    printf("  librnp verifies it: %s\n", vfpr ? vfpr : "FAILED");
    /* Debian's librnp 0.16.3 prints internal diagnostics ("[signature_validate() ...]") to
     * stderr on such failures; neither rnp_ffi_set_log_fd nor RNP_LOG_CONSOLE=0 silences them. */
    fprintf(stderr, "  (librnp's own stderr diagnostics for the expected failures follow)\n");
    char *tampered = strdup(data);
    tampered[0] = 'h';
    char *tfpr = verify_detached(ffi, tampered, strlen(tampered), sig, siglen);
    printf("  librnp on tampered data: %s\n", tfpr ? "WRONGLY ACCEPTED" : "rejected (good)");
    if (!vfpr || tfpr)
        die("detached signature self-check failed");
    rnp_buffer_destroy(vfpr);
    free(tampered);
    rnp_buffer_destroy(sig);

    printf("== (4) armored public key export of the project key\n");
    char *pub = export_public_armored(project, &publen);
    snprintf(path, sizeof path, "%s/project-pub.asc", outdir);
    write_file(path, pub, publen);
    printf("  %zu bytes, starts with %.36s\n", publen, pub);
    rnp_buffer_destroy(pub);

    printf("== protected secret keys: rnp_key_unlock (in memory) or rnp_key_unprotect\n");
    {
        rnp_op_generate_t op = NULL;
        rnp_key_handle_t k = NULL;
        bool prot = false, locked = false;
        RNP_CHECK(rnp_op_generate_create(&op, ffi, "EDDSA"));
        RNP_CHECK(rnp_op_generate_set_userid(op, "Protected <p@herald.invalid>"));
        RNP_CHECK(rnp_op_generate_set_protection_password(op, "hunter2"));
        RNP_CHECK(rnp_op_generate_execute(op));
        RNP_CHECK(rnp_op_generate_get_key(op, &k));
        rnp_op_generate_destroy(op);
        rnp_key_is_protected(k, &prot);
        rnp_key_is_locked(k, &locked);
        printf("  generated with a password: protected=%d locked=%d\n", prot, locked);
        /* Signing with a locked key and no password provider fails (RNP_ERROR_BAD_PASSWORD);
         * rnp_key_unlock keeps it usable for this ffi's lifetime. */
        rnp_input_t din = NULL;
        rnp_output_t dout = NULL;
        rnp_op_sign_t sop = NULL;
        RNP_CHECK(rnp_input_from_memory(&din, (const uint8_t *) data, strlen(data), false));
        RNP_CHECK(rnp_output_to_null(&dout));
        RNP_CHECK(rnp_op_sign_detached_create(&sop, ffi, din, dout));
        RNP_CHECK(rnp_op_sign_add_signature(sop, k, NULL));
        rnp_result_t rc = rnp_op_sign_execute(sop);
        printf("  signing while locked, no password provider -> %s\n", rnp_result_to_string(rc));
        rnp_op_sign_destroy(sop);
        rnp_input_destroy(din);
        rnp_output_destroy(dout);
        RNP_CHECK(rnp_key_unlock(k, "hunter2"));
        rnp_key_is_locked(k, &locked);
        size_t l;
        char *s = sign_detached_armored(ffi, k, data, strlen(data), &l);
        printf("  after rnp_key_unlock(k, password): locked=%d, signing %s\n", locked,
               s ? "works" : "fails");
        rnp_buffer_destroy(s);
        RNP_CHECK(rnp_key_unprotect(k, "hunter2"));
        rnp_key_is_protected(k, &prot);
        printf("  after rnp_key_unprotect(k, password): protected=%d\n", prot);
        rnp_key_handle_destroy(k);
    }
    free(sec);
    rnp_key_handle_destroy(project);
    rnp_key_handle_destroy(kj);
    rnp_key_handle_destroy(ko);
    rnp_ffi_destroy(ffi);
    return 0;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* gpgme_check_version must run once, before any thread uses GPGME. */
    if (!gpgme_check_version("1.10.0"))
        die("gpgme too old");
    if (argc >= 2 && !strcmp(argv[1], "bench"))
        return cmd_bench(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "selftest"))
        return cmd_selftest(argc - 2, argv + 2);
    fprintf(stderr, "usage: %s bench|selftest [options]\n", argv[0]);
    return 2;
}
