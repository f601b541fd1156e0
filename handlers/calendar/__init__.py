"""The campaign calendar file: milestones, holidays, branches' 述学 rhythms."""
