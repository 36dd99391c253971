/* Makes N throw-away OpenPGP keys for the benchmark's encrypted fan-out, with librnp (the library
 * Herald links): key i is "Org i <contact{i}@org{i}.example>", an Ed25519 primary key with a
 * Curve25519 encryption subkey, as a provider's would be. Writes one line per key to standard
 * output: i, the fingerprint, the encryption subkey's fingerprint (what `provider key add` records
 * as the subkey to encrypt to), and the armored public key with its line ends written as \n.
 *
 *   openpgp_keygen N > keys.tsv
 */
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                             \
    do {                                                                        \
        rnp_result_t r_ = (call);                                               \
        if (r_ != RNP_SUCCESS) {                                                \
            fprintf(stderr, "%s: %s\n", #call, rnp_result_to_string(r_));       \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: openpgp_keygen N\n");
        return 2;
    }
    for (long i = 0; i < n; i++) {
        rnp_ffi_t ffi;
        CHECK(rnp_ffi_create(&ffi, "GPG", "GPG"));
        char json[512];
        snprintf(json, sizeof json,
                 "{\"primary\":{\"type\":\"EDDSA\",\"userid\":\"Org %ld <contact%ld@org%ld.example>\","
                 "\"usage\":[\"sign\",\"certify\"],\"expiration\":0},"
                 "\"sub\":{\"type\":\"ECDH\",\"curve\":\"Curve25519\",\"usage\":[\"encrypt\"],\"expiration\":0}}",
                 i, i, i);
        char *results = NULL;
        CHECK(rnp_generate_key_json(ffi, json, &results));
        /* The primary key's grip: {"primary":{"grip":"…"},…} */
        char *grip = strstr(results, "\"grip\":\"");
        if (!grip) {
            fprintf(stderr, "no grip in %s\n", results);
            return 1;
        }
        grip += 8;
        *strchr(grip, '"') = 0;
        rnp_key_handle_t key;
        CHECK(rnp_locate_key(ffi, "grip", grip, &key));
        char *fingerprint;
        CHECK(rnp_key_get_fprint(key, &fingerprint));
        rnp_key_handle_t subkey;
        CHECK(rnp_key_get_subkey_at(key, 0, &subkey));
        char *subkey_fingerprint;
        CHECK(rnp_key_get_fprint(subkey, &subkey_fingerprint));
        rnp_output_t output;
        CHECK(rnp_output_to_memory(&output, 0));
        CHECK(rnp_key_export(key, output, RNP_KEY_EXPORT_ARMORED | RNP_KEY_EXPORT_PUBLIC | RNP_KEY_EXPORT_SUBKEYS));
        uint8_t *armored;
        size_t length;
        CHECK(rnp_output_memory_get_buf(output, &armored, &length, false));
        printf("%ld\t%s\t%s\t", i, fingerprint, subkey_fingerprint);
        for (size_t j = 0; j < length; j++) {
            if (armored[j] == '\n') fputs("\\n", stdout);
            else if (armored[j] != '\r') putchar(armored[j]);
        }
        putchar('\n');
        rnp_output_destroy(output);
        rnp_buffer_destroy(fingerprint);
        rnp_buffer_destroy(subkey_fingerprint);
        rnp_key_handle_destroy(subkey);
        rnp_key_handle_destroy(key);
        rnp_buffer_destroy(results);
        rnp_ffi_destroy(ffi);
    }
    return 0;
}
