/* SPDX-License-Identifier: Apache-2.0 */
/*
 * list.c - `officemeter list`: a site's buses and meters, one per line.
 *
 * Tab-separated, stable columns, for scripts (the demo and tests wire a
 * simulator to every bus of a site from this) and for a quick look.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/config/site.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter list --site FILE [--catalogue DIR] [--buses | --meters]\n"
            "\n"
            "Print a site's buses or meters, tab-separated, one per line:\n"
            "  --buses   GATEWAY BUS rtu DEVICE BAUD PARITY DATA_BITS STOP_BITS\n"
            "            GATEWAY BUS tcp HOST PORT\n"
            "  --meters  METER GATEWAY BUS UNIT_ID MODEL UTILITY ROLE (the default)\n");
}

static void print_buses(const om_site *s)
{
    for (size_t g = 0; g < s->ngateways; g++) {
        const om_gateway *gw = &s->gateways[g];
        for (size_t b = 0; b < gw->nbuses; b++) {
            const om_bus *bus = &gw->buses[b];
            if (bus->kind == OM_BUS_RTU)
                printf("%s\t%s\trtu\t%s\t%u\t%c\t%u\t%u\n", gw->id, bus->id, bus->rtu.device,
                       bus->rtu.baud, bus->rtu.parity, bus->rtu.data_bits, bus->rtu.stop_bits);
            else
                printf("%s\t%s\ttcp\t%s\t%u\n", gw->id, bus->id, bus->tcp.host, bus->tcp.port);
        }
    }
}

static void print_meters(const om_site *s)
{
    for (size_t i = 0; i < s->nmeters; i++) {
        const om_meter *m = &s->meters[i];
        printf("%s\t%s\t%s\t%u\t%s\t%s\t%s\n", m->id, m->gateway_id, m->bus_id, m->unit_id,
               m->model_id, m->utility == OM_UTILITY_WATER ? "water" : "electricity",
               m->role == OM_ROLE_MAIN ? "main" : "sub");
    }
}

int om_cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {{"site", required_argument, NULL, 's'},
                                         {"catalogue", required_argument, NULL, 'c'},
                                         {"buses", no_argument, NULL, 'b'},
                                         {"meters", no_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *site_path = NULL, *catalogue = "firmware-config/meters";
    int buses = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:c:bmh", opts, NULL)) != -1) {
        switch (c) {
        case 's': site_path = optarg; break;
        case 'c': catalogue = optarg; break;
        case 'b': buses = 1; break;
        case 'm': buses = 0; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!site_path || optind < argc) {
        fprintf(stderr, "officemeter list: %s\n",
                site_path ? "unexpected argument" : "no site file given (--site FILE)");
        return 2;
    }
    om_diag diag;
    om_diag_init(&diag);
    om_catalogue cat;
    om_site site;
    int rc = om_catalogue_load(catalogue, &cat, &diag);
    rc |= om_site_load(site_path, &cat, &site, &diag);
    if (rc != 0) {
        om_diag_print(&diag, stderr);
    } else if (buses) {
        print_buses(&site);
    } else {
        print_meters(&site);
    }
    om_site_free(&site);
    om_catalogue_free(&cat);
    om_diag_free(&diag);
    return rc == 0 ? 0 : 1;
}
