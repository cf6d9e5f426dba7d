/* test_machine.c — the CPU's model name that results record and the
 * history keys its series by: the first "model name" of a cpuinfo file,
 * blanks squeezed (padding must not split a series), a line that only
 * starts like it ignored, -1 where there is none (ARM kernels, no file),
 * and on this machine a name when /proc/cpuinfo has one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "flowgate/machine.h"

static char path[64];

static void write_cpuinfo(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "test_machine_cpuinfo.%ld", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void test_model_name(void **state)
{
    (void)state;
    char model[256];
    write_cpuinfo("processor\t: 0\n"
                  "vendor_id\t: GenuineIntel\n"
                  "model\t\t: 85\n"
                  "model name\t:   Intel(R) Xeon(R)  CPU   @ 2.20GHz  \n"
                  "processor\t: 1\n"
                  "model name\t: Some Other CPU\n");
    assert_int_equal(fg_machine_cpu_model_in(path, model, sizeof model), 0);
    assert_string_equal(model, "Intel(R) Xeon(R) CPU @ 2.20GHz");

    /* Cut to the buffer, never past it. */
    assert_int_equal(fg_machine_cpu_model_in(path, model, 6), 0);
    assert_string_equal(model, "Intel");
}

static void test_no_model_name(void **state)
{
    (void)state;
    char model[64] = "unchanged";
    /* An ARM kernel's cpuinfo: no "model name"; a field that only starts
     * like it and an empty name do not count. */
    write_cpuinfo("processor\t: 0\n"
                  "BogoMIPS\t: 50.00\n"
                  "model names\t: not this\n"
                  "model name\t:   \n"
                  "CPU implementer\t: 0x41\n");
    assert_int_equal(fg_machine_cpu_model_in(path, model, sizeof model), -1);
    assert_string_equal(model, "unchanged");
    assert_int_equal(fg_machine_cpu_model_in("/nonexistent/cpuinfo", model, sizeof model), -1);
}

static void test_this_machine(void **state)
{
    (void)state;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) skip();
    char line[512];
    int has = 0;
    while (!has && fgets(line, sizeof line, f)) has = !strncmp(line, "model name", 10);
    fclose(f);
    if (!has) skip();
    char model[256];
    assert_int_equal(fg_machine_cpu_model(model, sizeof model), 0);
    assert_true(model[0] != 0);
    assert_null(strstr(model, "  "));
    assert_true(model[0] != ' ' && model[strlen(model) - 1] != ' ');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_name),
        cmocka_unit_test(test_no_model_name),
        cmocka_unit_test(test_this_machine),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
