/**
 * The invoice form follows the pipeline without a reload: the test
 * (tests/test_dte_async_live.py) posts signed callbacks to
 * /api/dte/callback once this form listens on the invoice's bus channel.
 */
import { registry } from "@web/core/registry";

const STATUS = ".o_form_statusbar .o_field_widget[name=dte_async_status]";

registry.category("web_tour.tours").add("l10n_cl_dte_async_live_status", {
    steps: () => [
        {
            content: "the invoice is queued",
            trigger: `${STATUS}:contains(En cola)`,
            run() {
                // Gone if the page reloads: proves the form updated in place.
                window.__dteAsyncSamePage = true;
            },
        },
        {
            content: "the listener is in the form",
            trigger: ".o_dte_async_live[data-channel^='l10n_cl_dte_async.account.move_']:not(:visible)",
        },
        {
            content: "the status changes to accepted on its own",
            trigger: `${STATUS}:contains(Aceptado)`,
            timeout: 60000,
        },
        {
            content: "the chatter shows the TrackID and the SII's answer",
            trigger: ".o-mail-Message-body:contains(Aceptado por el SII)",
            timeout: 20000,
        },
        {
            content: "with the TrackID",
            trigger: ".o-mail-Message-body:contains(TrackID 4242)",
        },
        {
            content: "without reloading the page",
            trigger: `${STATUS}:contains(Aceptado)`,
            run() {
                if (!window.__dteAsyncSamePage) {
                    throw new Error("the page was reloaded: the form did not update in place");
                }
            },
        },
    ],
});
