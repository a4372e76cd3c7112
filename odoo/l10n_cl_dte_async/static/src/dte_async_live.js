/**
 * Live DTE status on the invoice form.
 *
 * The pipeline reports each status to /api/dte/callback; the addon then
 * sends a bus notification on the invoice's own channel
 * (AccountMove._dte_async_notify_bus). This invisible widget, placed in the
 * invoice form, subscribes to that channel for the record on screen and
 * reloads the record (status, TrackID, SII answer) and its chatter when a
 * notification arrives, so the user sees «Aceptado» without reloading the
 * page. A form with unsaved changes is not reloaded: the user is told instead.
 */
import { Component, onWillDestroy, useEffect, xml } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

export const NOTIFICATION_TYPE = "l10n_cl_dte_async/status";

export function channelOf(resId) {
    return `l10n_cl_dte_async.account.move_${resId}`;
}

export class DteAsyncLive extends Component {
    static template = xml`<span class="o_dte_async_live d-none" t-att-data-channel="channel"/>`;
    static props = { ...standardWidgetProps };

    setup() {
        this.busService = useService("bus_service");
        this.notification = useService("notification");
        useEffect(
            (resId) => {
                if (!resId) {
                    return;
                }
                const channel = channelOf(resId);
                this.busService.addChannel(channel);
                return () => this.busService.deleteChannel(channel);
            },
            () => [this.props.record.resId]
        );
        this.onStatus = this.onStatus.bind(this);
        this.busService.subscribe(NOTIFICATION_TYPE, this.onStatus);
        onWillDestroy(() => this.busService.unsubscribe(NOTIFICATION_TYPE, this.onStatus));
    }

    get channel() {
        return this.props.record.resId ? channelOf(this.props.record.resId) : "";
    }

    async onStatus(payload) {
        const record = this.props.record;
        if (payload.model !== record.resModel || payload.id !== record.resId) {
            return;
        }
        if (record.dirty) {
            this.notification.add(
                _t("El estado DTE de este documento cambió; guarde o descarte sus cambios para verlo."),
                { type: "info" }
            );
            return;
        }
        // Reloading the root record also reloads the chatter (mail's form
        // controller asks its thread for new messages).
        await record.model.load();
    }
}

registry.category("view_widgets").add("l10n_cl_dte_async_live", { component: DteAsyncLive });
