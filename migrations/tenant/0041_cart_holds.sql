-- A cart holds several coupons under one reservation id (the desk's purchase dialog holds
-- each coupon the clerk adds under the dialog's id), so the id is no longer unique to one
-- coupon. Nothing reads coupons by reservation id: the index goes.
DROP INDEX coupons_reservation;
